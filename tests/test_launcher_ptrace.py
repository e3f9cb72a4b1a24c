"""The launcher's --pidfd report, and its --ptrace report when the traced child's first state is not the exec stop.

Go's handlePtrace waits for the child once and prints "ptrace: stopped (trace/breakpoint trap)" for the
exec stop, or else "ptrace: " and the wait status in Go's words (describe: "exit status 3",
"signal: killed"), detaching only a stopped child. That second branch needs a child gone before its
exec stop was waited for; here it is a plain child that has exited, handed to handle_ptrace in-process.
"""

import os
import signal

import pytest

from port import launcher

ENDS = [
    (lambda: os._exit(3), b"ptrace: exit status 3\n"),
    (lambda: os._exit(5), b"ptrace: exit status 5\n"),  # 5 is SIGTRAP's number: an exit is not a trap stop
    (lambda: os.kill(os.getpid(), signal.SIGKILL), b"ptrace: signal: killed\n"),
]


@pytest.mark.parametrize(("end", "said"), ENDS, ids=["exit-3", "exit-5", "killed"])
def test_a_child_that_ended_is_reported_in_gos_words(end, said, capfd):
    pid = os.fork()
    if pid == 0:
        end()
        os._exit(99)
    launcher.handle_ptrace(pid)
    out, err = capfd.readouterr()
    assert (out, err.encode()) == ("", said)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped by handle_ptrace's wait, nothing detached


def test_pidfd_report_is_ok_only_for_a_live_child(capfd):
    """Go's reportPidfd: "ok" when pidfd_send_signal(fd, 0) succeeds, else (or with no pidfd) "none"."""
    pid = os.fork()
    if pid == 0:
        os.kill(os.getpid(), signal.SIGSTOP)
        os._exit(0)
    fd = os.pidfd_open(pid)
    try:
        # Until the stop is reported, SIGSTOP itself may still be pending (ShdPnd bit 19).
        assert os.WIFSTOPPED(os.waitpid(pid, os.WUNTRACED)[1])
        launcher.report_pidfd(fd)
        # The check is signal 0, which sends nothing: no signal waits on the stopped child.
        with open(f"/proc/{pid}/status") as f:
            pending = {k: int(v, 16) for k, v in (ln.split() for ln in f if ln.startswith(("SigPnd:", "ShdPnd:")))}
        assert pending == {"SigPnd:": 0, "ShdPnd:": 0}
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    try:
        launcher.report_pidfd(fd)  # the child is gone: ESRCH
        launcher.report_pidfd(-1)
    finally:
        os.close(fd)
    assert capfd.readouterr() == ("", "pidfd: ok\npidfd: none\npidfd: none\n")
