"""make trace: under RAW_CLONE the port makes Go's namespace syscalls, in kind and order.

Each launcher runs under `strace -f` (tests/support/trace.py); the namespace calls
(clone flags, unshare, the map writes, mount, sethostname) of each process are
compared, and every other difference must have its one-line explanation.
"""

import pytest

from tests.support import strace, trace
from tests.support.configs import BY_NAME
from tests.support.launchers import GO, PY, PY_RELAY, PY_SUBREAPER

pytestmark = [
    pytest.mark.userns,
    pytest.mark.tool("strace"),
    pytest.mark.xdist_group("trace-notes"),  # one module fixture: one worker
]


SIX = "CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUSER|CLONE_NEWUTS"


@pytest.fixture(scope="module")
def notes():
    return trace.trace([GO, PY, PY_SUBREAPER, PY_RELAY])


def run_of(result: dict, name: str) -> dict:
    return next(r for r in result["launchers"] if r["name"] == name)


def test_raw_clone_makes_gos_namespace_calls(notes):
    assert run_of(notes, "go")["namespace_calls"] == [f"launcher: clone({SIX})"]
    assert run_of(notes, "py")["namespace_calls"] == [f"launcher: clone({SIX})"]
    assert notes["comparisons"][0]["namespace_calls_match"] is True


def test_fork_strategies_unshare_in_a_middle_process(notes):
    """The comparison can fail: SUBREAPER and RELAY create the namespaces another way, and it shows."""
    for name in ("py-subreaper", "py-relay"):
        calls = run_of(notes, name)["namespace_calls"]
        assert calls[0].startswith("middle: unshare("), calls
        assert not next(c for c in notes["comparisons"] if c["port"] == name)["namespace_calls_match"]


def test_processes_end_in_the_same_namespaces(notes):
    def ends(name):
        return {p["label"]: p["namespaces"] for p in run_of(notes, name)["processes"] if p["label"] != "probe"}

    six = ["ipc", "mnt", "net", "pid", "user", "uts"]
    assert ends("go") == ends("py") == {"launcher": [], "sh": six}
    assert ends("py-subreaper")["sh"] == six and ends("py-subreaper")["middle"] == sorted(set(six) - {"pid"})


def test_every_difference_is_explained(notes):
    unexplained = {
        c["port"]: [(trace._cell(r["go"]), trace._cell(r["port"])) for r in c["rows"] if "UNEXPLAINED" in r["why"]]
        for c in notes["comparisons"]
    }
    assert unexplained == {"py": [], "py-subreaper": [], "py-relay": []}


@pytest.mark.root
def test_raw_clone_writes_the_maps_as_go_does():
    """With ID maps the launcher writes uid_map, setgroups, gid_map for the child, in Go's order."""
    result = trace.trace(list(BY_NAME["root-mapped"].launchers()))
    go, py = (run["namespace_calls"] for run in result["launchers"])
    assert go == [
        f"launcher: clone({SIX})",
        'launcher: write(/proc/sh/uid_map, "0 0 1\\n")',
        'launcher: write(/proc/sh/setgroups, "deny")',
        'launcher: write(/proc/sh/gid_map, "0 0 1\\n")',
    ]
    assert py == go


def test_parse_joins_an_interrupted_call():
    text = (
        "10  1.000000 clone(child_stack=NULL, flags=CLONE_NEWPID|SIGCHLD <unfinished ...>\n"
        "11  1.000100 exit_group(0)           = ?\n"
        "10  1.000200 <... clone resumed>) = 11\n"
    )
    calls = strace.parse(text)
    assert [(c["pid"], c["name"], c["ret"]) for c in calls] == [(10, "clone", "11"), (11, "exit_group", "?")]
    assert trace.processes(calls)[11]["own"] == {"pid"}
