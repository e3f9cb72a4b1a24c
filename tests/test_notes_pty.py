"""The notes program and its port behave the same in a real pty.

An interactive sh does job control: it takes the terminal for its own
process group, and on exit tries to give it back to the launcher's group,
whose id does not exist in the new PID namespace. So in a pty `exit N` ends
with "Cannot set tty process group" and status 2, under Go and Python alike.
"""

import signal

import pytest

from tests.support.launchers import GO, PY
from tests.support.shell import ShellSession

pytestmark = pytest.mark.userns


def session_end(launcher, commands: list[str], last: str):
    with ShellSession(launcher) as sh:
        outputs = [sh.run(c) for c in commands]
        ending = sh.exit(kill=signal.SIGKILL) if last == "SIGKILL" else sh.exit(last)
        return sh.banner, outputs, ending, sh.exitstatus, sh.signalstatus


@pytest.mark.parametrize("last", ["exit 0", "exit 3", "SIGKILL"])
def test_same_transcript_in_pty(last):
    commands = ["echo $$", "id -u", "hostname -s >/dev/null; echo $?", "tty >/dev/null; echo $?"]
    go = session_end(GO, commands, last)
    py = session_end(PY, commands, last)
    assert go == py, f"\ngo: {go}\npy: {py}"
    banner, outputs, _, _, _ = go
    assert banner == "main starting...\n"
    assert outputs[:2] == [("1\n", 0), ("65534\n", 0)]


def test_exit_in_pty_reports_tty_handback_failure():
    _, _, ending, status, _ = session_end(GO, [], "exit 3")
    assert "Cannot set tty process group (No such process)" in ending
    assert ending.endswith("exit status 2\n")
    assert status == 1


def test_sigkill_from_host_in_pty():
    _, _, ending, status, _ = session_end(GO, [], "SIGKILL")
    assert ending == "YYYY/MM/DD hh:mm:ss signal: killed\n"
    assert status == 1
