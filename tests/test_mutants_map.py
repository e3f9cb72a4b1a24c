"""make mutants' coverage map (tests/support/mutants_map.py): what it starts in every interpreter of a
worker's venv stays light, and what make test imports of it needs no mutants extra."""

import ast
import os
import subprocess
import sys

from tests.support import mutants_map
from tests.support.paths import ROOT


def test_make_test_needs_no_mutants_extra():
    code = (
        "import sys, tests.support.mutants_equivalents, tests.support.mutants_map;"
        "print(sorted({'cosmic_ray', 'coverage', 'parso'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"


def test_the_startup_hook_imports_little_and_traces_only_while_mapping(tmp_path):
    site, data = tmp_path / "site", tmp_path / "data"
    site.mkdir()
    assert mutants_map.install(site, data, ROOT) == ["-p", "_nsport_covplugin"]
    # The .pth line every interpreter of the worker's venv runs, and what it imports: no coverage.py, no project.
    assert (site / "nsport-mutants.pth").read_text() == "import _nsport_cov\n"
    hook = ast.parse((site / "_nsport_cov.py").read_text())
    assert {a.name for node in hook.body if isinstance(node, ast.Import) for a in node.names} == {"atexit", "os", "sys"}
    assert not [node for node in hook.body if isinstance(node, ast.ImportFrom)]

    def traced() -> str:
        probe = "import sys, _nsport_cov; print(sys.gettrace() is not None)"
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(site)}
        return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout

    assert traced() == "False\n"  # outside the mapping run the hook does nothing
    mutants_map.enable(data, ROOT)
    try:
        assert traced() == "True\n"
    finally:
        mutants_map.disable(data)
    assert traced() == "False\n"
