"""Every verdict state and exit status: match, unexpected difference, not verified, could not run.

A fact that could not be measured for the reference or for a launcher is not
verified, never a match (two launchers failing alike included); the views
and every report's JSON say so first, and the scripts exit 0/1/2, through
make too (VERDICT=file).
"""

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from rich.console import Console

from tests.support import kernel_report, matrix, matrix_report, netns, netprobes, parity, report, trace, verdict
from tests.support.inprocess import run_script
from tests.support.launchers import GO, PY, Launcher
from tests.support.paths import ROOT
from tests.support.probe import NotRun, Probe
from tests.support.probes import BY_NAME

# --- the states -----------------------------------------------------------------------


def test_states_and_their_exit_statuses():
    assert verdict.decide(15, 0, 0) == "match"
    assert verdict.decide(15, 1, 0) == "differs"
    assert verdict.decide(15, 1, 3) == "differs"  # a measured difference outranks what did not run
    assert verdict.decide(15, 0, 1) == "not verified"
    assert verdict.decide(15, 0, 15) == "could not run"
    assert verdict.decide(0, 0, 0) == "could not run"
    assert verdict.EXIT == {"match": 0, "differs": 1, "not verified": 2, "could not run": 2}
    v = verdict.make("not verified", "14/15", {"probes": 15}, {"git commit": "abc", "kernel": "Linux 6.1",
                                                               "date": "today"})  # fmt: skip
    assert list(v)[:3] == ["state", "exit", "summary"] and v["exit"] == 2
    assert (v["commit"], v["kernel"], v["date"]) == ("abc", "Linux 6.1", "today")


# --- parity, from made-up observations ----------------------------------------------


def _probe(name: str) -> Probe:
    return Probe(name, "true", lambda raw, ctx: {}, about=f"the {name} probe")


PROBES = [_probe("alpha"), _probe("bridge")]


def _seen(facts: dict, not_run: dict | None = None) -> dict:
    return {"output": "", "status": 0, "look": None, "facts": facts, "not_run": not_run or {}}


def _results(py_bridge: dict, go_bridge: dict | None = None, alpha: str = "x") -> dict:
    go_bridge = go_bridge or _seen({"wiring": "by the test", "answer": "hello"})
    return {
        "launchers": [GO.as_data(), PY.as_data()],
        "commands": {},
        "host": {},
        "observations": {
            "go": {"alpha": _seen({"a": "x"}), "bridge": go_bridge},
            "py": {"alpha": _seen({"a": alpha}), "bridge": py_bridge},
        },
    }


NOBODY_WHY = "as nobody: wiring the bridge needs root on the host: unshare --net did not start"
UNWIRED = _seen({"wiring": None, "answer": None}, {"wiring": NOBODY_WHY, "answer": NOBODY_WHY})


def _verdict(results: dict) -> dict:
    rows = parity.compare(results, PROBES)
    return json.loads(report.json_report(rows, results, {"git commit": "abc"}))["verdict"]


def test_parity_match():
    v = _verdict(_results(_seen({"wiring": "by the test", "answer": "hello"})))
    assert (v["state"], v["exit"], v["summary"]) == ("match", 0, "2/2 probes match go")


def test_parity_unexpected_difference():
    v = _verdict(_results(_seen({"wiring": "by the test", "answer": "hello"}), alpha="y"))
    assert (v["state"], v["exit"]) == ("differs", 1)
    assert v["differences"] == ["MISMATCH alpha: py differs from go in a"]


def test_two_launchers_failing_alike_are_not_a_match():
    """As nobody the wiring fails for Go and Python alike: not verified, never 2/2."""
    results = _results(UNWIRED, go_bridge=UNWIRED)
    rows = {r["name"]: r for r in parity.compare(results, PROBES)}
    assert rows["bridge"]["state"] == "not verified" and not rows["bridge"]["match"]
    assert rows["bridge"]["not_verified"]["py"][0] == {"fact": "wiring", "who": ["go", "py"], "reason": NOBODY_WHY}
    v = _verdict(results)
    assert (v["state"], v["exit"]) == ("not verified", 2)
    assert v["summary"] == f"1/2 probes match go, 1 not verified (bridge: {NOBODY_WHY})"
    assert v["counts"] == {"probes": 2, "match": 1, "expected": 0, "differs": 0, "not verified": 1}
    assert v["not_verified"] == [{"where": "bridge (go, py: wiring, answer)", "reason": NOBODY_WHY}]


def test_a_fact_only_the_reference_could_not_measure_is_not_verified_for_the_others():
    rows = {r["name"]: r for r in parity.compare(_results(_seen({"wiring": "x", "answer": "y"}), UNWIRED), PROBES)}
    assert rows["bridge"]["not_verified"]["py"][0] == {"fact": "wiring", "who": ["go"], "reason": NOBODY_WHY}
    facts = {f["fact"]: f for f in report.fact_rows(rows["bridge"])}
    assert [c["state"] for c in facts["wiring"]["cells"]] == ["not verified", "not verified"]
    assert [c["value"] for c in facts["wiring"]["cells"]] == ["not run", "x"]


def test_nothing_measured_could_not_run():
    nothing = {"alpha": _seen({"a": None}, {"a": "go gave no shell"}), "bridge": UNWIRED}
    results = _results(UNWIRED)
    results["observations"]["go"] = nothing
    v = _verdict(results)
    assert (v["state"], v["exit"]) == ("could not run", 2)


def test_json_starts_with_the_verdict():
    results = _results(UNWIRED)
    rows = parity.compare(results, PROBES)
    data = json.loads(report.json_report(rows, results, {}))
    assert next(iter(data)) == "verdict"
    assert data["probes"][1]["state"] == "not verified"
    assert data["summary"]["not_verified"][0]["reason"] == NOBODY_WHY


def test_every_view_says_not_verified_with_the_reason():
    results = _results(UNWIRED)
    rows = parity.compare(results, PROBES)
    text = report.terminal(rows, results, {}, Console(width=80, force_terminal=False))
    assert text.splitlines()[0].startswith("? NOT VERIFIED: 1/2 probes match go, 1 not verified")
    assert "NOT VERIFIED bridge: py: wiring, answer" in " ".join(text.split())
    assert "not run" in text and "why: as nobody" in text
    page = report.html_page(rows, results, {})
    assert '<section class="verdict not-verified"' in page and "? NOT VERIFIED" in page
    assert '<td class="v not-verified">? not run<span class="why">as nobody' in page
    md = report.markdown(rows, results, {})
    assert md.startswith("# Parity report\n\n**? NOT VERIFIED**: 1/2 probes match go, 1 not verified")
    assert "*? not run*" in md


# --- parity, observed: how a probe says it could not run ------------------------------------


def _hooked(name: str, before) -> Probe:
    return Probe(name, "echo 'seen: yes'", lambda raw, ctx: {"seen": "seen: yes" in raw, "other": 1},
                 before=before)  # fmt: skip


def _raise(exc):
    def hook(ctx):
        raise exc

    return hook


@pytest.mark.userns
def test_hooks_timeouts_and_a_missing_shell_leave_probes_not_run(monkeypatch):
    monkeypatch.setattr(parity, "ShellSession", functools.partial(parity.ShellSession, timeout=1))
    probes = [
        _hooked("whole", _raise(NotRun("the host has no bridge"))),
        _hooked("part", lambda ctx: ctx.skip("no peer", "other")),
        _hooked("broken", _raise(OSError(5, "Input/output error"))),
        Probe("slow", "sleep 5", lambda raw, ctx: {"done": bool(raw)}),
        _hooked("after", None),
    ]
    seen = parity.observe(GO, probes)
    assert seen["whole"]["not_run"] == {"seen": "the host has no bridge", "other": "the host has no bridge"}
    assert seen["part"]["facts"] == {"seen": True, "other": None} and seen["part"]["not_run"] == {"other": "no peer"}
    assert seen["broken"]["not_run"]["seen"] == "its host side failed: OSError: [Errno 5] Input/output error"
    assert seen["slow"]["not_run"] == {"done": "the shell gave no answer within 1 s"}
    assert seen["after"]["facts"] == {"seen": True, "other": 1} and not seen["after"]["not_run"]  # a new session

    nothing = Launcher("no-shell", ("sh", "-c", "echo 'operation not permitted' >&2; exit 1"), "gives no shell")
    seen = parity.observe(nothing, probes[-1:])
    assert seen["after"]["not_run"]["seen"] == "no-shell gave no shell (it ended: operation not permitted)"


@pytest.mark.root
@pytest.mark.userns
def test_a_bridge_the_host_cannot_wire_is_not_verified(monkeypatch):
    """The wiring failure is a state, not a string fact both launchers share."""

    class Refused(netns.Scratch):
        def __enter__(self):
            raise RuntimeError("unshare --net did not start (Operation not permitted)")

    monkeypatch.setattr(netns, "Scratch", Refused)
    probes = [BY_NAME["bridge"], BY_NAME["exit"]]
    rows = {r["name"]: r for r in parity.compare(parity.run_all([GO, PY], probes), probes)}
    bridge = rows["bridge"]
    assert bridge["state"] == "not verified" and not bridge["match"]
    assert {e["fact"] for e in bridge["not_verified"]["py"]} == set(netprobes.WIRED)
    assert bridge["launchers"]["go"]["facts"]["wiring"] is None  # no "failed: ..." value to compare
    assert bridge["not_verified"]["py"][0]["who"] == ["go", "py"]
    assert bridge["not_verified"]["py"][0]["reason"].endswith("unshare --net did not start (Operation not permitted)")
    assert rows["exit"]["state"] == "match"


# --- the scripts' exit statuses, directly and through make ------------------------------


def _script(name: str, *args: str, prefix: tuple[str, ...] = (), cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, f"scripts/{name}.py", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180, env={**os.environ, "COLUMNS": "80"})  # fmt: skip


def test_parity_could_not_run_exits_2(tmp_path):
    proc = _script("parity", "--launchers", "go,nope", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("✗ COULD NOT RUN: parity could not run: unknown launcher 'nope'")
    proc = run_script("parity", "--probes", "hostname,nope", "--out", str(tmp_path))  # in this process
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("✗ COULD NOT RUN: parity could not run: unknown probe 'nope'; known: hostname,")
    missing = Launcher("nope", ("nsport-no-such-program",), "", package="nsport-nothing")
    assert missing.missing() == "nsport-nothing (nsport-no-such-program) not installed"


@pytest.mark.root
@pytest.mark.userns
def test_parity_as_nobody_is_not_verified_and_exits_2():
    """As nobody the bridge cannot be wired: beside a probe that matches (hostname), 1/2, 1 not verified, never
    2/2 (the whole suite as nobody gives 14/15 the same way: make parity's own run, not this test's).

    Go against unshare: the port's launcher would need an interpreter nobody can exec (pyenv's is under /root).
    """
    if problem := matrix.nobody_problem():
        pytest.skip(problem)
    with tempfile.TemporaryDirectory(prefix="nsport-nobody-") as tmp:  # not under pytest's root-only tmp_path
        out = Path(tmp)
        out.chmod(0o777)
        proc = _script("parity", "--launchers", "go,unshare", "--probes", "hostname,bridge", "--out", str(out),
                       prefix=matrix.NOBODY)  # fmt: skip
        data = json.loads((out / "parity.json").read_text()) if (out / "parity.json").exists() else {}
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.startswith("? NOT VERIFIED: 1/2 probes match go"), proc.stdout
    assert re.match(r"1/2 probes match go.*, 1 not verified \(bridge: as nobody: ", data["verdict"]["summary"])
    assert data["verdict"]["state"] == "not verified" and data["verdict"]["counts"]["not verified"] == 1
    bridge = next(p for p in data["probes"] if p["name"] == "bridge")
    assert bridge["state"] == "not verified" and bridge["match"] is False
    assert bridge["launchers"]["go"]["not_run"]["wiring"].startswith("as nobody: wiring the bridge needs root")


def _make(target: str, tmp_path, *variables: str) -> tuple[int, str, str]:
    """make TARGET with the suite's venv; (make's status, the VERDICT file, output)."""
    status = tmp_path / f"{target}.status"
    venv = os.path.dirname(os.path.dirname(sys.executable))
    proc = subprocess.run(["make", "-s", "-o", f"{venv}/.installed", target, f"VENV={venv}", f"REPORTS={tmp_path}",
                           f"VERDICT={status}", *variables], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "80"})  # fmt: skip
    return proc.returncode, status.read_text().strip() if status.exists() else "(no file)", proc.stdout + proc.stderr


@pytest.mark.userns
def test_make_writes_the_scripts_own_status(tmp_path):
    """make turns every failure into 2; VERDICT=file keeps the script's 0, 1 or 2. (PROBES=hostname: the
    one probe that sees py-no-uts, and a verdict that counts only what ran.)"""
    code, status, out = _make("parity", tmp_path, "LAUNCHERS=go,py", "PROBES=hostname")
    assert (code, status) == (0, "0"), out
    assert "\n✓ MATCH: 1/1 probes match go\n" in out, out
    code, status, out = _make("parity", tmp_path, "LAUNCHERS=go,py-no-uts", "PROBES=hostname")
    assert (code, status) == (2, "1"), out
    assert "MISMATCH hostname: py-no-uts differs from go" in out
    code, status, out = _make("parity", tmp_path, "LAUNCHERS=go,nope")
    assert (code, status) == (2, "2"), out
    assert json.loads((tmp_path / "parity.json").read_text())["verdict"]["state"] == "differs"  # the run before


# --- matrix ------------------------------------------------------------------------


def test_matrix_cells_not_launched_are_not_verified(monkeypatch):
    cells = matrix.run([("uts", "user")], ["root", "nobody"], skip={"nobody": "python cannot run as nobody"})
    nobody = cells[1]
    assert (nobody["state"], nobody["match"], nobody["not_verified"]) == ("not verified", False,
                                                                         "python cannot run as nobody")  # fmt: skip
    v = matrix_report.view(cells, {})["verdict"]
    assert (v["state"], v["exit"]) == ("not verified", 2)
    assert v["not_verified"] == [{"where": "--clone uts,user as nobody", "reason": "python cannot run as nobody"}]
    assert "? not run: python cannot run as nobody" in matrix_report.html_page(cells, {})

    def timed_out(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], 30)

    monkeypatch.setattr(matrix.subprocess, "run", timed_out)
    (cell,) = matrix.run([("uts",)], ["root"])  # both time out alike: still not a match
    assert cell["state"] == "not verified" and cell["not_verified"] == "timed out after 30 s"
    assert matrix_report.view([cell], {})["verdict"]["state"] == "could not run"


def test_matrix_states_and_exits():
    ok = {"launched": True, "status": 0, "error": "", "facts": {"uts": "own"}, "not_run": None}
    refused = {"launched": False, "status": 1, "error": "fork/exec /bin/sh: operation not permitted", "facts": {},
               "not_run": None}  # fmt: skip

    def cell(go, py):
        return {"flags": ["uts"], "privilege": "root", "go": go, "py": py, "differs": [],
                "state": matrix.cell_state(go, py)}  # fmt: skip

    assert matrix_report.view([cell(ok, ok), cell(refused, refused)], {})["verdict"]["exit"] == 0
    v = matrix_report.view([cell(ok, refused)], {})["verdict"]
    assert (v["state"], v["exit"]) == ("differs", 1)
    text = matrix_report.text_summary([cell(ok, refused)], {}, Console(width=80))
    assert text.startswith("✗ DIFFERS: 0/1 cells: Go and Python agree (0 run, 0 refused alike), 1 differ")


@pytest.mark.root
@pytest.mark.userns
def test_matrix_script_exits_by_its_verdict(tmp_path):
    proc = _script("matrix", "--flags", "uts,user", "--privileges", "root", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("matrix: 1 cell as root, ")  # piped: one line per stage
    assert "✓ MATCH: 1/1 cells: Go and Python agree" in proc.stdout
    assert next(iter(json.loads((tmp_path / "matrix.json").read_text()))) == "verdict"
    assert run_script("matrix", "--privileges", "root,admin").returncode == 2  # in this process


# --- trace ---------------------------------------------------------------------------


def _comparison(port: str, state: str, same_calls: bool, why: str = "", unexplained: int = 0) -> dict:
    return {"port": port, "strategy": trace.strategy_of(port), "rows": [], "state": state, "differences": 3,
            "unexplained": unexplained, "namespace_calls_match": same_calls, "namespace_calls_why": why,
            "not_verified": "strace recorded no call" if state == "not verified" else None}  # fmt: skip


def _trace_result(*comparisons: dict) -> dict:
    runs = [{"name": n, "about": "", "not_run": None, "processes": [], "events": [], "namespace_calls": ["x"],
             "start_to_exec_ms": trace.timing([1.0])} for n in ["go", *(c["port"] for c in comparisons)]]  # fmt: skip
    return {"launchers": runs, "comparisons": list(comparisons)}


def test_trace_states_and_words():
    expected = _comparison("py-relay", "expected", False, trace.EXPECTED_CALLS["relay"])
    result = _trace_result(_comparison("py", "match", True), expected)
    v = trace.make_verdict(result)
    assert (v["state"], v["exit"]) == ("match", 0)
    lines = "\n".join(line for line, _ in trace.text(result, {}, 80))
    assert "match: False" not in lines and "namespace calls differ as expected: fork cannot carry" in lines
    assert "≈ py-relay" in lines and "not timed (1 run; 5 or more give a median)" in lines
    bad = _trace_result(_comparison("py", "differs", True, unexplained=2))
    assert trace.make_verdict(bad)["exit"] == 1
    half = _trace_result(_comparison("py", "match", True), _comparison("py-relay", "not verified", False))
    assert (trace.make_verdict(half)["state"], trace.make_verdict(half)["exit"]) == ("not verified", 2)
    none = _trace_result(_comparison("py", "not verified", False))
    assert trace.make_verdict(none)["state"] == "could not run"


def test_trace_times_need_five_runs():
    assert trace.timing([9.1, 7.2, 21.8, 8.0, 12.5]) == {"runs": [9.1, 7.2, 21.8, 8.0, 12.5], "median": 9.1,
                                                         "min": 7.2, "max": 21.8}  # fmt: skip
    assert trace.timing_text(trace.timing([9.1, 7.2, 21.8, 8.0, 12.5])) == "median 9 ms (range 7–22 ms, 5 runs)"
    assert trace.timing([7.4, 21.8])["median"] is None


@pytest.mark.userns
def test_a_launcher_strace_cannot_follow_is_not_verified():
    if shutil.which("strace") is None:
        pytest.skip("strace not installed")
    result = trace.trace([GO, Launcher("gone", ("/nonexistent/launcher",), "not there")])
    (cmp,) = result["comparisons"]
    assert cmp["state"] == "not verified" and cmp["namespace_calls_match"] is False
    assert trace.report(result)["verdict"]["state"] == "could not run"


# --- kernels ---------------------------------------------------------------------------


def _kernel(release: str, *, error=None, probe=None, test=None) -> dict:
    return {"asked": release[:4], "package": f"linux-image-{release}", "release": "" if error else release,
            "error": error, "seconds": 1.0, "features": {},
            "probes": {} if error else {"net": probe or {"match": True, "differs": [], "go": {}, "py": {}}},
            "tests": {} if error else {"t::a": test or {"outcome": "passed", "message": ""}}}  # fmt: skip


def test_kernels_states():
    assert kernel_report.make_verdict([_kernel("6.12.1")])["state"] == "match"
    differ = _kernel("6.12.1", probe={"match": False, "differs": ["links"], "go": {}, "py": {}})
    assert kernel_report.make_verdict([differ])["exit"] == 1
    skipped = _kernel("6.12.1", test={"outcome": "skipped", "message": "strace not installed"})
    v = kernel_report.make_verdict([skipped])
    assert v["state"] == "not verified"
    assert v["not_verified"] == [{"where": "6.12.1: t::a", "reason": "skipped: strace not installed"}]
    unverified = _kernel("6.12.1", probe={"match": False, "differs": [], "go": {}, "py": {},
                                          "not_verified": ["wiring: as nobody"]})  # fmt: skip
    assert kernel_report.grid([unverified])[0][1] == [("not verified: wiring: as nobody", "unverified")]
    assert kernel_report.make_verdict([_kernel("5.10", error="no boot")])["state"] == "could not run"
    assert next(iter(json.loads(kernel_report.json_report([skipped])))) == "verdict"
