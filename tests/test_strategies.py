"""The port's three ways to get the child of a new PID namespace (port/exec_linux.py: RAW_CLONE,
SUBREAPER, RELAY) end the way Go's child does: the same exit, the same signal, no core of the
relay's own, and Pdeathsig still firing when the launcher dies; only RELAY's extra process shows.
"""

import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

from port import exec, exec_linux, libc
from port.launcher import PTRACE_DETACH
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr
from tests.support import parity, piped, procfs
from tests.support.launchers import GO, LAUNCHER_GO, LAUNCHER_PY, PY_RELAY
from tests.support.paths import PYTHON, ROOT

pytestmark = pytest.mark.userns


END = {
    "exit-7": ("sh", "-c", "exit 7"),
    # A real fault kills even a namespace's PID 1; no core file is asked for. The suite's interpreter
    # without site: python3 on PATH may be a pyenv shim, which costs about 0.1 s of CPU a start.
    "segfault": ("sh", "-c", f"ulimit -c 0; exec {shlex.quote(PYTHON)} -I -S -c 'import ctypes; ctypes.string_at(0)'"),
}


@pytest.mark.strategies
@pytest.mark.parametrize("pdeathsig", [0, signal.SIGTERM], ids=["", "pdeathsig"])
@pytest.mark.parametrize("end", END.values(), ids=END.keys())
def test_new_pid_namespace_child_ends_the_same_under_both_strategies(end, pdeathsig):
    """RELAY's middle process ends as its child did; with a Pdeathsig it must not end any sooner."""
    seen = {}
    for strategy in exec_linux.STRATEGIES:
        cmd = exec.Command(*end)
        cmd.strategy = strategy
        cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID, pdeathsig=pdeathsig)
        with pytest.raises(exec.ExitError) as e:
            cmd.run()
        seen[strategy] = str(e.value)
    want = {"exit-7": "exit status 7", "segfault": "signal: segmentation fault"}[
        next(k for k, v in END.items() if v == end)]  # fmt: skip
    assert seen == dict.fromkeys(exec_linux.STRATEGIES, want)


def test_child_killed_from_the_host_under_both_strategies(strategy):
    """SIGKILL to the namespace's PID 1 from the host: the launcher reports "signal: killed"."""
    cmd = exec.Command("sleep", "60")
    cmd.strategy = strategy
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    cmd.start()
    # SUBREAPER hands the launcher the child itself; RELAY a middle process whose child it is.
    child = procfs.wait_for_descendant(cmd.process.pid, "sleep") if strategy == exec_linux.RELAY else cmd.process.pid
    os.kill(child, signal.SIGKILL)
    with pytest.raises(exec.ExitError) as e:
        cmd.wait()
    assert str(e.value) == "signal: killed"


def fate(pid: int, deadline: float) -> str | None:
    """How a re-parented orphan ended, once it has; None while it runs."""
    while time.monotonic() < deadline:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not re-parented to us yet
            got = 0
        if got:
            return f"killed by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status) else "exited"
        time.sleep(0.02)
    return None


def test_relay_dies_with_the_launcher_so_the_childs_pdeathsig_fires():
    """RELAY with Pdeathsig KILL: the launcher killed, the relay dies of its own Pdeathsig, then sh of
    the child's, as sh alone does under Go (test_pdeathsig's pid-ns-kill case)."""
    argv = [*LAUNCHER_PY.argv, "--strategy", "relay", "--clone", "user,pid", "--pdeathsig", "KILL", "--",
            "sh", "-c", "echo ready; read line"]  # fmt: skip
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        sh = procfs.wait_for_descendant(proc.pid, "sh")
        relay = procfs.children_map()
        relay = next(p for p, kids in relay.items() if sh in kids)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 2
        fates = {"relay": fate(relay, deadline), "sh": fate(sh, deadline)}
        for pid, name in ((sh, "sh"), (relay, "relay")):
            if fates[name] is None:
                os.kill(pid, signal.SIGKILL)  # by the pid we started
                os.waitpid(pid, 0)
        assert fates == {"relay": "killed by SIGKILL", "sh": "killed by SIGKILL"}
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()


def test_relay_ends_by_the_childs_signal_whatever_the_launchers_handler():
    """Under Go the launcher sees the child's own death. RELAY's middle process inherits the launcher's
    Python handlers; it must drop its copy of the one for the child's signal before raising it."""
    import faulthandler

    was_enabled = faulthandler.is_enabled()
    old = signal.signal(signal.SIGSEGV, lambda *_: None)  # the launcher's own (Python-level) handler
    try:
        _segfault_in_a_new_pid_namespace(exec_linux.RELAY)
    finally:
        signal.signal(signal.SIGSEGV, old if old is not None else signal.SIG_DFL)
        if was_enabled:
            faulthandler.enable()


def _segfault_in_a_new_pid_namespace(strategy: str) -> exec.Cmd:
    """Run a child that dies of SIGSEGV (dumping no core), started by strategy; Go's text."""
    cmd = exec.Command(*END["segfault"])
    cmd.strategy = strategy
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    with pytest.raises(exec.ExitError) as e:
        cmd.run()
    assert str(e.value) == "signal: segmentation fault"
    return cmd


def test_relay_dumps_no_core_when_its_child_did_not(monkeypatch, tmp_path):
    """RELAY re-raises its child's signal to end the same way; it must not dump a core of its own where
    the child dumped none, or the launcher would read "(core dumped)" where Go reads the child's status.
    The launcher here may dump cores (RLIMIT_CORE raised to its hard limit), the child may not."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard == 0:
        pytest.skip("RLIMIT_CORE's hard limit is 0: no process here can dump a core")
    monkeypatch.chdir(tmp_path)  # where a core named by core_pattern "core" would land
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    try:
        cmd = _segfault_in_a_new_pid_namespace(exec_linux.RELAY)
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
    assert not os.WCOREDUMP(cmd.process_state.status)


def test_relay_strategy_shows_in_the_process_tree():
    """The RELAY strategy behaves alike except for the extra process, and the suite says so."""
    rows = parity.compare(parity.run_all([GO, PY_RELAY]))
    assert [r["name"] for r in rows if not r["match"]] == ["pstree"]
    tree = {r["name"]: r for r in rows}["pstree"]["launchers"]["py-relay"]["facts"]["process tree from the host"]
    assert tree == "launcher---python---sh"


# --- the strategy a start took is visible, and a test naming one runs it ------------------------


def test_the_start_reports_the_strategy_it_took(strategy):
    """Cmd.strategy_taken (port-only) is the strategy named: a RAW_CLONE test runs where a raw clone is
    possible (tests/conftest.py runs its body in a forked, single-threaded child under xdist), never as SUBREAPER."""
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    assert cmd.strategy_taken == ""
    cmd.run()
    assert (cmd.strategy, cmd.strategy_taken) == (strategy, strategy)


FALLBACK = r"""
import os, threading
from port import exec, exec_linux, libc
from port.launcher import PTRACE_DETACH
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr

def start(tag):
    cmd = exec.Command("true")
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    cmd.run()
    attr = exec_linux.ProcAttr(env=(b"PATH=/usr/bin:/bin",))
    os.waitpid(exec_linux.fork_exec("/bin/true", ["true"], attr), 0)
    print(tag, cmd.strategy, cmd.strategy_taken, attr.strategy, attr.strategy_taken)

start("alone:")
stop = threading.Event()
t = threading.Thread(target=stop.wait)
t.start()
start("with a thread:")
stop.set()
t.join()
"""


def test_a_fallback_to_subreaper_is_visible():
    """RAW_CLONE asked for in a process with a second thread becomes SUBREAPER (port/rawclone.py), and
    the start says so: Cmd.strategy_taken and ProcAttr.strategy_taken name what was taken."""
    proc = subprocess.run([sys.executable, "-c", FALLBACK], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [
        "alone: raw-clone raw-clone raw-clone raw-clone",
        "with a thread: raw-clone subreaper raw-clone subreaper",
    ]


def test_a_test_naming_raw_clone_fails_where_it_would_fall_back(monkeypatch):
    """The suite's own guard (tests/support/strategy_guard.py strict_starts): a start that took another strategy than
    the one named fails the test. With a second thread alive, RAW_CLONE falls back, and the guard says so
    (the command cannot start, chroot fails, so nothing is left behind)."""
    import threading

    from tests.support.strategy_guard import strict_starts

    strict_starts(monkeypatch)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        cmd = exec.Command("true")
        cmd.strategy = exec_linux.RAW_CLONE
        cmd.sys_proc_attr = SysProcAttr(chroot="/nonexistent")
        with pytest.raises(AssertionError, match="asked for raw-clone, fork_exec took subreaper"):
            cmd.start()
    finally:
        stop.set()
        t.join()
    assert cmd.strategy_taken == exec_linux.SUBREAPER


def test_relay_with_ptrace_in_a_new_pid_namespace_starts_as_subreaper():
    """PTRACE_TRACEME makes the child's parent its tracer. Under RELAY with a middle process that parent
    is the relay, which would swallow the exec stop the launcher waits for (found by the launcher
    scenarios of make fuzz: `ptrace: exit status 253`); so such a start takes SUBREAPER, visibly."""
    go, py = (
        piped.launch(launcher.argv, ("--clone", "user,pid", "--strategy", "relay", "--ptrace", "sh", "-c", "exit 7"))
        for launcher in (LAUNCHER_GO, LAUNCHER_PY)
    )
    assert go == py == (b"", b"ptrace: stopped (trace/breakpoint trap)\nexit status 7\n", 1)
    attr = exec_linux.ProcAttr(env=(b"PATH=/usr/bin:/bin",), strategy=exec_linux.RELAY,
                               sys=SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID, ptrace=True))  # fmt: skip
    pid = exec_linux.fork_exec("/bin/true", ["true"], attr)
    _, status = os.waitpid(pid, 0)  # the exec stop, reported to us: we are the tracer
    assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP
    libc.ptrace(PTRACE_DETACH, pid)
    assert os.waitpid(pid, 0)[1] == 0
    assert attr.strategy_taken == exec_linux.SUBREAPER
