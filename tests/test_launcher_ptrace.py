"""The launcher's --ptrace report when the traced child's first state is not the exec stop.

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
    (lambda: os.kill(os.getpid(), signal.SIGKILL), b"ptrace: signal: killed\n"),
]


@pytest.mark.parametrize(("end", "said"), ENDS, ids=["exited", "killed"])
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
