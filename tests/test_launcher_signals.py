"""The launcher's own signal dispositions, Go's runtime behaviour (port/runtime.py).

A signal sent to the launcher alone (not to sh): SIGHUP, SIGINT and SIGTERM
kill a Go program, and so does signal 34, for which Go installs no handler;
SIGUSR1, SIGALRM, SIGPIPE from kill(2), the other real-time signals and the
like are caught and dropped, so the launcher goes on waiting for sh.
The port must do the same: CPython would turn SIGINT into KeyboardInterrupt
and die of SIGUSR1.
"""

import os
import signal
import subprocess

import pytest

from tests.support import piped, procfs
from tests.support.launchers import GO, PY

pytestmark = pytest.mark.userns

# 34 (musl's SIGSYNCCALL) Go leaves at its default, which is to terminate.
KILLING = [signal.SIGHUP, signal.SIGINT, signal.SIGTERM, 34]
DROPPED = [signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGPIPE, signal.SIGVTALRM, signal.SIGPROF,
           signal.SIGXCPU, signal.SIGXFSZ, signal.SIGIO, signal.SIGPWR, 35, 64]  # fmt: skip


def name(sig: int) -> str:
    return signal.Signals(sig).name if sig < 32 else f"signal-{sig}"


def signal_launcher(launcher, sig: int, dies: bool = False) -> piped.Result:
    """Start the launcher, signal it once it runs sh, then let sh exit 3 (dies: once the launcher has
    ended, within 10 s). Go acts on a signal in a thread of its own after kill(2) has returned; a shell
    that exits at once can win that race, and Go then ends as if it had dropped the signal (2 runs in
    6,800 under load, SIGINT, SIGHUP and SIGTERM alike; none in 9,100 with the wait). A signal the port
    leaves at SIG_DFL ends it within kill(2) itself."""
    # Go keeps SIGHUP and SIGINT ignored if it started so (a job started with &): start with the defaults.
    argv = ("env", "--default-signal=HUP,INT", *launcher.argv)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sh = None
    try:
        assert proc.stdout.readline() == b"main starting...\n"  # printed in main: the runtime is set up
        sh = procfs.wait_for_descendant(proc.pid, "sh")  # env has exec'd the launcher: same pid
        os.kill(proc.pid, sig)
        if dies:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass  # it did not die: sh's exit 3 shows how it ended instead
        proc.stdin.write(b"exit 3\n")
        proc.stdin.close()
        proc.stdin = None  # closed: communicate() only reads
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sh is not None and procfs.state(sh) is not None:
        # The launcher died first: the orphaned sh (exit 3 on its stdin) is ours to reap.
        try:
            os.waitpid(sh, 0)
        except ChildProcessError:
            pass
    return piped.Result(out, err, proc.returncode)


@pytest.mark.parametrize("sig", KILLING, ids=name)
def test_signal_kills_the_launcher(sig):
    go, py = signal_launcher(GO, sig, dies=True), signal_launcher(PY, sig, dies=True)
    assert go.status == -sig, go.show()
    piped.assert_same(go, py)


@pytest.mark.parametrize("sig", DROPPED, ids=name)
def test_signal_is_caught_and_dropped(sig):
    go, py = signal_launcher(GO, sig), signal_launcher(PY, sig)
    assert go.status == 1 and go.stderr.endswith(b" exit status 3\n"), go.show()
    piped.assert_same(go, py)
