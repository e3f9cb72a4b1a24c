"""make mutants' coverage map (tests/support/mutants_map.py): what it starts in every interpreter of a
worker's venv stays light, and what make test imports of it needs no mutants extra."""

import ast
import os
import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("args", [["--help"], ["--limit", "1"]], ids=["help", "run"])
def test_the_mutants_script_without_its_extra(args):
    """`scripts/mutants.py --help` answers without cosmic-ray, coverage or parso; a run says in one line
    what is missing (here parso, hidden from the import system) and exits 2, with no traceback."""
    hide = "import runpy, sys; sys.modules['parso'] = None; sys.argv = ['mutants.py', *sys.argv[1:]]; "
    run = "runpy.run_path('scripts/mutants.py', run_name='__main__')"
    proc = subprocess.run([sys.executable, "-c", hide + run, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    if args == ["--help"]:
        assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
        assert proc.stdout.startswith("usage: mutants.py")
    else:
        assert proc.returncode == 2 and proc.stdout == "", proc.stderr
        assert (
            proc.stderr
            == "mutants: parso is missing: make mutants installs the mutants extra (pip install -e '.[mutants]')\n"
        )
