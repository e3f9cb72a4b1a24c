"""make trace: under RAW_CLONE the port makes Go's namespace syscalls, in kind and order.

Each launcher runs under `strace -f` (tests/support/trace.py); the namespace calls
(clone flags, unshare, the map writes, mount, sethostname) of each process are
compared, and every other difference must have its one-line explanation.
"""

import pytest

from tests.support import strace, trace
from tests.support.configs import BY_NAME
from tests.support.launchers import GO, PY, PY_RELAY, PY_SUBREAPER, SIGUSR1_IGNORED

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


# --- arguments that are the behaviour: signals, masks --------------------------------------------


def test_a_child_that_leaves_sigusr1_ignored_is_caught():
    """tests/programs/variants.py child-keeps=SIGUSR1: the port's child skips its reset of SIGUSR1 and sh
    starts with it ignored (SigIgn 0x200, Go's 0). Its reset calls differ only in a SIG_DFL (explained),
    but what sh starts with differs, and no rule explains that: the comparison fails."""
    result = trace.trace([GO, SIGUSR1_IGNORED])
    (cmp,) = result["comparisons"]
    unexplained = [(trace._cell(r["go"]), trace._cell(r["port"])) for r in cmp["rows"] if "UNEXPLAINED" in r["why"]]
    assert unexplained == [
        ("sh: at execve: ignored none; blocked none", "sh: at execve: ignored SIGUSR1; blocked none")
    ]
    assert cmp["state"] == "differs"
    assert trace.make_verdict(result)["state"] == "differs"


def test_sh_starts_with_what_go_gives_it(notes):
    """Every launcher's sh starts with no signal ignored and none blocked, as Go's."""
    for run in notes["launchers"]:
        assert [e["call"] for e in run["events"] if e["call"].startswith("at execve")] == [
            "at execve: ignored none; blocked none"
        ], run["name"]


def _calls(*lines: str) -> list[dict]:
    return strace.parse("".join(f"{pid} {1 + i / 1000:.6f} {text}\n" for i, (pid, text) in enumerate(lines)))


ACT = "{sa_handler=%s, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f00}"
SIX_CLONE = (
    "clone(child_stack=NULL, flags=CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET"
    "|SIGCHLD) = 11"
)


def _start(*child: str, launcher: tuple[str, ...] = (), clone: str = SIX_CLONE) -> list[dict]:
    """A launcher (pid 10) that runs launcher's calls, makes sh (pid 11) with clone, which runs child's calls
    and execs."""
    calls = _calls(
        (10, 'execve("/usr/bin/launcher", ["launcher"], 0x0 /* 1 var */) = 0'),
        *((10, c) for c in launcher),
        (10, clone),
        *((11, c) for c in child),
        (11, 'execve("/usr/bin/sh", ["sh"], 0x0 /* 1 var */) = 0'),
        (11, "exit_group(0) = ?"),
    )
    return trace.sequence(calls, trace.processes(calls))


def test_signal_calls_show_their_signals_and_disposition():
    """Calls giving one disposition in a row are one row, named by their signals; a query is not shown;
    a handler's address is dropped; a mask is shown by its signals."""
    seq = _start(
        f"rt_sigaction(SIGHUP, {ACT % 'SIG_DFL'}, NULL, 8) = 0",
        f"rt_sigaction(SIGINT, NULL, {ACT % 'SIG_DFL'}, 8) = 0",
        f"rt_sigaction(SIGINT, {ACT % 'SIG_DFL'}, NULL, 8) = 0",
        f"rt_sigaction(SIGUSR1, {ACT % 'SIG_DFL'},NULL, 8) = 0",  # as parse() joins an interrupted call
        f"rt_sigaction(SIGRT_1, {ACT % '0x4242'}, NULL, 8) = 0",
        "rt_sigprocmask(SIG_SETMASK, ~[KILL STOP], NULL, 8) = 0",
    )
    assert [e["call"] for e in seq if e["process"] == "sh"][:3] == [
        "rt_sigaction(SIGHUP–SIGINT SIGUSR1, SIG_DFL)",
        "rt_sigaction(SIGRT_1, handler)",
        "rt_sigprocmask(SIG_SETMASK, [SIGHUP–SIGFPE SIGUSR1–SIGCONT SIGTSTP–SIGRT_32])",
    ]


def test_what_sh_starts_with_is_replayed_from_the_calls():
    """Dispositions are inherited at the clone and kept by execve when ignored, reset when caught; the
    mask is the cloning thread's, then what the child set; an old action strace prints is the truth, and
    a signal no call set (SIGHUP, SIGQUIT: only queried) is the environment's, alike for both, not shown."""
    seq = _start(
        f"rt_sigaction(SIGTERM, {ACT % 'SIG_DFL'}, NULL, 8) = 0",
        "rt_sigprocmask(SIG_BLOCK, [CHLD], NULL, 8) = 0",
        launcher=(
            f"rt_sigaction(SIGUSR1, {ACT % 'SIG_IGN'}, NULL, 8) = 0",
            f"rt_sigaction(SIGTERM, {ACT % 'SIG_IGN'}, NULL, 8) = 0",
            f"rt_sigaction(SIGUSR2, {ACT % '0x4242'}, NULL, 8) = 0",
            f"rt_sigaction(SIGHUP, NULL, {ACT % 'SIG_IGN'}, 8) = 0",  # inherited as ignored: a query says so
            f"rt_sigaction(SIGHUP, {ACT % 'SIG_IGN'}, NULL, 8) = 0",  # and kept so (Go keeps SIGHUP, SIGINT)
            f"rt_sigaction(SIGQUIT, NULL, {ACT % 'SIG_IGN'}, 8) = 0",  # left as the environment has it
            "rt_sigprocmask(SIG_SETMASK, [INT], NULL, 8) = 0",
        ),
    )
    assert "sh: at execve: ignored SIGHUP SIGUSR1; blocked SIGINT SIGCHLD" in [trace.key(e) for e in seq]


def test_a_child_that_ignores_a_signal_is_unexplained():
    """Only resets to SIG_DFL are explained in sh's own calls: a SIG_IGN there is a difference."""
    go = _start(f"rt_sigaction(SIGUSR1, {ACT % 'SIG_DFL'}, NULL, 8) = 0")
    port = _start(f"rt_sigaction(SIGUSR1, {ACT % 'SIG_IGN'}, NULL, 8) = 0")
    rows = [(trace._cell(r["go"]), trace._cell(r["port"]), r["why"]) for r in trace.align(go, port, "raw-clone")]
    unexplained = [(g, p) for g, p, why in rows if "UNEXPLAINED" in why]
    assert unexplained == [
        ("sh: rt_sigaction(SIGUSR1, SIG_DFL)", "sh: rt_sigaction(SIGUSR1, SIG_IGN)"),
        ("sh: at execve: ignored none; blocked none", "sh: at execve: ignored SIGUSR1; blocked none"),
    ]


def test_a_clone_with_a_flag_beyond_the_namespaces_is_unexplained():
    """The clone rules explain CLONE_PIDFD (Go's) and the CLONE_NEW* flags (compared by namespace_calls), not
    another flag: a port clone with CLONE_PARENT as well is a difference no rule explains."""
    go = _start(clone=SIX_CLONE.replace("flags=", "flags=CLONE_PIDFD|"))

    def unexplained(clone: str) -> list[str]:
        rows = trace.align(go, _start(clone=clone), "raw-clone")
        return [trace._cell(r["port"]) for r in rows if "UNEXPLAINED" in r["why"]]

    assert unexplained(SIX_CLONE) == []
    assert unexplained(SIX_CLONE.replace("flags=", "flags=CLONE_PARENT|")) == [
        "launcher: clone(CLONE_PARENT|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET"
        "|SIGCHLD) → sh"
    ]


def test_alignment_does_not_depend_on_how_processes_interleave():
    """The same events of each process, interleaved differently in time (as two runs of one launcher
    may be), align row for row: every process is aligned on its own. Aligned as one sequence, a
    different interleaving left sh's rt_sigprocmask unpaired in about one run in ten."""
    launcher = [{"process": "launcher", "call": f"write(/proc/1/{f})", "n": 1} for f in ("uid_map", "gid_map")]
    sh = [{"process": "sh", "call": c, "n": 1} for c in ("rt_sigprocmask(SIG_SETMASK, [])", 'execve("/usr/bin/sh")')]
    go = [launcher[0], sh[0], launcher[1], sh[1]]
    port = [sh[0], launcher[0], sh[1], launcher[1]]
    rows = trace.align(go, port, "raw-clone")
    assert [(r["go"]["call"], r["port"]["call"]) for r in rows if r["same"]] == [
        (e["call"], e["call"]) for e in [*launcher, *sh]
    ]
    assert all(r["same"] for r in rows)
