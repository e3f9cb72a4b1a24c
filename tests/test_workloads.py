"""make workloads' comparison, and its fast slice: a few of Go's own syscall tests and tini as PID 1,
under Go's launchers and the port's (the whole run is `make workloads`)."""

import json
import os
import secrets
import shutil
import tempfile

import pytest

from tests.support import verdict, workloads, workloads_report
from tests.support.launchers import GO, PY

GO_TEST_OUTPUT = """\
=== RUN   TestA
--- PASS: TestA (0.01s)
=== RUN   TestB
    b_test.go:12: needs root, uid 65534
--- SKIP: TestB (0.00s)
=== RUN   TestC
=== PAUSE TestC
=== CONT  TestC
    c_test.go:40: fork/exec /tmp/TestC123/x: pid 4242 invalid argument
--- FAIL: TestC (1.25s)
=== RUN   TestD
=== RUN   TestD/sub
--- PASS: TestD (0.00s)
    --- PASS: TestD/sub (0.00s)
FAIL
@@status 1
"""


def test_go_test_output_gives_the_sets_and_masked_messages():
    facts = workloads.go_test_facts(GO_TEST_OUTPUT)
    assert facts["passed"] == ["TestA", "TestD", "TestD/sub"]
    assert facts["skipped"] == ["TestB"]
    assert facts["failed"] == ["TestC"]
    assert facts["counts"] == "3 pass, 1 fail, 1 skip"
    assert facts["test binary's exit status"] == 1
    assert facts["fail and skip messages"] == {
        "TestB": ["b_test.go:N: needs root, uid N"],
        "TestC": ["c_test.go:N: fork/exec /tmp/… pid N invalid argument"],
    }
    # timings never reach a fact
    assert workloads.go_test_facts(GO_TEST_OUTPUT.replace("1.25s", "9.99s")) == facts


def _run(name, **facts):
    base = {"launcher's exit status": 1, "printed outside the workload": ""}
    return workloads.Run(name, 1, "", "", {**base, **facts})


def test_a_declared_difference_is_expected_and_anything_else_differs():
    ref = _run("go", counts="1 pass, 0 fail, 0 skip")
    same = workloads.compare(ref, _run("py", counts="1 pass, 0 fail, 0 skip"), "go test syscall")
    assert {r["state"] for r in same} == {"same"}
    other = workloads.compare(ref, _run("py", counts="0 pass, 1 fail, 0 skip"), "go test syscall")
    assert [r["fact"] for r in other if r["state"] == "differs"] == ["counts"]
    # bwrap declares its Go test results (its sh is mapped); unshare declares only its exit status
    bwrap = workloads.compare(ref, _run("bwrap", counts="2 pass, 0 fail, 0 skip"), "go test syscall")
    assert {r["state"] for r in bwrap} == {"same", "expected"}
    unshare = workloads.compare(ref, _run("unshare", counts="2 pass, 0 fail, 0 skip"), "go test syscall")
    assert "differs" in {r["state"] for r in unshare}
    assert all(e.why for es in workloads.EXPECTED.values() for e in es)


def _record(state_of_py: str) -> dict:
    run = {"launcher": "go", "status": 1, "stdout": "@@begin\nx | y\n", "stderr": "", "error": "",
           "facts": {"counts": "1 pass, 0 fail, 0 skip", "launcher's exit status": 1}}  # fmt: skip
    rows = [{"fact": "counts", "state": state_of_py, "value": "a|b", "reference": "c"}]
    return {"workload": "go test syscall", "about": "Go's | tests", "configuration": "notes",
            "runs": {"go": run, "py": {**run, "launcher": "py"}}, "cells": {"py": rows},
            "not_verified": []}  # fmt: skip


@pytest.mark.parametrize(("state", "expect"), [("same", verdict.MATCH), ("differs", verdict.DIFFERS)])
def test_the_verdict_and_every_view(state, expect):
    records = [_record(state)]
    v = workloads.make_verdict(records)
    assert v["state"] == expect and v["exit"] == verdict.EXIT[expect]
    data = json.loads(workloads_report.json_report(records))
    assert next(iter(data)) == "verdict" and data["verdict"]["state"] == expect
    md = workloads_report.markdown(records)
    assert md.startswith("# Workloads") and "x \\| y" not in md and "go test syscall" in md
    page = workloads_report.html_page(records)
    assert 'name="viewport"' in page and 'id="verdict"' in page and 'class="scroll"' in page
    assert "<details>" in page  # the raw output a click away
    assert "go test syscall" in workloads_report.terminal(records)


def test_a_missing_tool_is_not_verified_by_name():
    w = workloads.Workload(
        "ghost", "needs a binary", lambda tmp: "", lambda text: {}, binary=workloads.GOTEST / "nothing.test"
    )
    record = workloads.run_workload(w, "notes", [GO, PY], "/nonexistent")
    assert record["runs"] == {} and "nothing.test is not built" in record["not_verified"][0]["reason"]
    assert workloads.make_verdict([record])["state"] == verdict.COULD_NOT_RUN


def _same_under_go_and_py(w: workloads.Workload, launchers, tmp_path, together: bool = False) -> dict:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    tmp.chmod(0o1777)
    record = workloads.run_workload(w, "fast", launchers, str(tmp), together=together)
    assert not record["not_verified"], record["not_verified"]
    differs = {n: [r for r in rows if r["state"] != "same"] for n, rows in record["cells"].items()}
    assert not any(differs.values()), json.dumps(differs, indent=1, default=str)
    return next(iter(record["runs"].values()))["facts"]


@pytest.mark.userns
def test_a_few_of_gos_syscall_tests_pass_fail_and_skip_alike(tmp_path):
    w = workloads.workloads(fast=True)[0]
    if why := w.missing():
        pytest.skip(why)
    facts = _same_under_go_and_py(w, [GO, PY], tmp_path)
    assert facts["passed"] and facts["skipped"], facts  # the filter still names tests that run


@pytest.mark.userns
def test_a_few_of_gos_syscall_tests_alike_as_a_mapped_root(tmp_path):
    w = workloads.workloads(fast=True)[0]
    if why := w.missing():
        pytest.skip(why)
    launchers = workloads.mapped_root()[:2]
    facts = _same_under_go_and_py(w, launchers, tmp_path)
    assert facts["passed"], facts


@pytest.mark.userns
@pytest.mark.tool("tini")
def test_tini_as_pid_1_reaps_the_orphans_alike(tmp_path):
    facts = _same_under_go_and_py(workloads.workloads(fast=True)[1], [GO, PY], tmp_path, together=True)
    assert facts["processes under PID 1 during the load"] == 200
    assert facts["processes left under PID 1"] == 0 and facts["zombies among them"] == 0
    assert facts["launcher's exit status"] == 1  # the notes' log.Fatal of tini's `exit status 7`
    assert facts["printed outside the workload"] == "exit status N\n"


@pytest.mark.userns
@pytest.mark.tool("slirp4netns")
def test_slirp4netns_attached_from_the_host_connects_alike():
    """Rootless networking attached from outside: slirp4netns on the launched sh's pid gives its
    network namespace tap0 and a way to a listener on the host's own loopback, under Go and the port."""
    tmp = tempfile.mkdtemp(prefix=f"nsw{secrets.token_hex(2)}")  # in /tmp: nobody must read its file
    try:
        os.chmod(tmp, 0o1777)
        record = workloads.run_workload(workloads.SLIRP4NETNS, "fast", [GO, PY], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert not record["not_verified"], record["not_verified"]
    differs = [r for r in record["cells"]["py"] if r["state"] != "same"]
    assert not differs, json.dumps(differs, indent=1, default=str)
    facts = record["runs"]["go"]["facts"]
    assert facts["tap0"] == "10.0.2.100/24"
    assert "default via 10.0.2.2 dev tap0" in facts["routes"]
    assert facts["listener"] == "sent 'hello from the host\\n'"
    assert facts["closed port"] == "Connection refused"
