"""A slice of the namespace matrix (make matrix runs all of it): Go and Python agree.

Each cell launches both launchers with one --clone set, as root and as
nobody; the full matrix is scripts/matrix.py.
"""

import json
import subprocess
import sys

import pytest

from tests.support import matrix, matrix_report
from tests.support.paths import ROOT

pytestmark = [pytest.mark.userns, pytest.mark.root, pytest.mark.xdist_group("matrix-cells")]  # root: to drop to nobody

SLICE = [(), ("uts",), ("pid", "user"), (*matrix.SIX, "time"), ("cgroup",)]


def privileges() -> list[str]:
    return ["root"] if matrix.nobody_problem() else ["root", "nobody"]


@pytest.fixture(scope="module")
def cells():
    return {(tuple(c["flags"]), c["privilege"]): c for c in matrix.run(SLICE, privileges())}


def need_nobody():
    if problem := matrix.nobody_problem():
        pytest.skip(problem)


def test_configurations_cover_every_subset_and_the_two_extra_flags():
    sets = matrix.configurations()
    assert len(sets) == 64 + 4 and len(set(sets)) == len(sets)
    assert ("cgroup",) in sets and (*matrix.SIX, "time") in sets


@pytest.mark.parametrize("flags", SLICE, ids=lambda f: ",".join(f) or "none")
@pytest.mark.parametrize("privilege", ["root", "nobody"])
def test_go_and_python_agree(cells, flags, privilege):
    if privilege == "nobody":
        need_nobody()
    c = cells[flags, privilege]
    assert c["match"], (
        f"--clone {','.join(flags)} as {privilege}: differs in {c['differs']}\ngo: {c['go']}\npy: {c['py']}"
    )


def test_cells_say_what_isolation_they_got(cells):
    need_nobody()
    root = cells[("pid", "user"), "root"]["go"]
    assert root["launched"] and root["facts"]["$$"] == "1"
    assert root["facts"]["user"] == root["facts"]["pid"] == "own" and root["facts"]["uts"] == "host's"
    assert root["facts"]["ids"].startswith("65534:")  # unmapped in its new user namespace
    assert cells[(), "nobody"]["go"]["facts"]["ids"].startswith("65534:65534:")
    refused = cells[("uts",), "nobody"]
    assert not refused["go"]["launched"] and refused["go"]["status"] == 1
    assert refused["go"]["error"].endswith("operation not permitted")
    assert cells[(*matrix.SIX, "time"), "nobody"]["py"]["facts"]["time"] == "own"


def test_a_python_launcher_that_drops_a_flag_is_caught(monkeypatch):
    """A port that ignored one --clone flag would differ from Go in that cell, by its facts."""
    real = matrix.argv

    def py_drops_uts(lang, flags, privilege):
        return real(lang, tuple(f for f in flags if lang == "go" or f != "uts"), privilege)

    monkeypatch.setattr(matrix, "argv", py_drops_uts)
    (cell,) = matrix.run([("uts", "user")], ["root"])
    assert not cell["match"] and cell["differs"] == ["facts"]
    assert (cell["go"]["facts"]["uts"], cell["py"]["facts"]["uts"]) == ("own", "host's")


def test_a_difference_is_highlighted_and_named():
    ok = {"launched": True, "status": 0, "error": "", "facts": {n: "own" for n in matrix.NS_FILES} | {
        "$$": "1", "ids": "0:0:0", "uid_map": "", "hostname": "host's"}}  # fmt: skip
    bad = {"launched": False, "status": 1, "error": "YYYY/MM/DD hh:mm:ss fork/exec /bin/sh: <no>", "facts": {}}
    cells = [{"flags": ["uts"], "privilege": "root", "go": ok, "py": bad, "match": False,
              "differs": ["error", "facts", "launched", "status"]}]  # fmt: skip
    meta = {"launches": "2", "seconds": "0.1"}
    page = matrix_report.html_page(cells, meta)
    assert '<a href="#cfg-uts">--clone uts</a> as root: differs in error, facts, launched, status' in page
    assert 'class="c differs"' in page and "py: status 1: &lt;no&gt;" in page
    assert "MISMATCH --clone uts as root" in matrix_report.text_summary(cells, meta)
    assert json.loads(matrix_report.json_report(cells, meta))["cells"][0]["match"] is False


def test_the_script_writes_the_reports(tmp_path):
    need_nobody()
    proc = subprocess.run(
        [sys.executable, "scripts/matrix.py", "--flags", "net;user,ns", "--privileges", "root,nobody",
         "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4/4 cells: Go and Python agree" in proc.stdout
    data = json.loads((tmp_path / "matrix.json").read_text())
    assert [(c["flags"], c["privilege"], c["match"]) for c in data["cells"]] == [
        (["net"], "root", True), (["net"], "nobody", True), (["user", "ns"], "root", True),
        (["user", "ns"], "nobody", True),
    ]  # fmt: skip
    assert {"go", "py"} <= set(data["cells"][0]) and (tmp_path / "matrix.html").exists()
    assert "✓ Go and Python agree in all 4 cells" in (tmp_path / "matrix.md").read_text()
