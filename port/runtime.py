"""Give a Python process the signal behaviour a Go program has.

The Go runtime installs a handler for nearly every signal at start-up
(runtime/signal_unix.go initsig, runtime/sigtable_linux_generic.go):
SIGHUP, SIGINT and SIGTERM then kill the program, SIGPIPE kills it only for
a write to fd 1 or 2, and most others (SIGUSR1, SIGALRM, ...) are caught and
dropped. In a forked child Go resets every signal it handles to SIG_DFL
(clearSignalHandlers) and leaves the signal mask as the program started with.
CPython instead ignores SIGPIPE and SIGXFSZ and turns SIGINT into
KeyboardInterrupt, and ignored dispositions survive execve(2); init() and
reset_signals_for_child() close that gap.
"""

import _signal as signal  # the C module: signal.py wraps everything in enums, ~3 ms a start
import os

# Go: sigtable entries with _SigDefault (left alone: the system default, or what
# was inherited) and signal 32, which Go never touches. Signal 33 Go does
# handle (sigPerThreadSyscall, for setuid in every thread), so its child gets
# it back as SIG_DFL even when the program started with it ignored (GNU make
# starts its commands with 32 and 33 ignored); glibc will not set 33, hence
# the raw rt_sigaction. Signal 34 (musl's SIGSYNCCALL, _SigSetStack) Go leaves
# alone, so it kills a Go program (found by make trace's child: one more
# rt_sigaction than Go's).
_SIGSETXID = 33
_UNTOUCHED = {signal.SIGCONT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, 32, 34}
_UNCATCHABLE = {signal.SIGKILL, signal.SIGSTOP}
# Go: _SigKill signals (the program dies) and _SigThrow/_SigPanic ones (it
# crashes with a goroutine dump and exit status 2; here the system default).
_KILL = {signal.SIGHUP, signal.SIGINT, signal.SIGTERM}
_THROW = {
    signal.SIGQUIT, signal.SIGILL, signal.SIGTRAP, signal.SIGABRT, signal.SIGBUS,
    signal.SIGFPE, signal.SIGSEGV, signal.SIGSTKFLT, signal.SIGSYS,
}  # fmt: skip
# Whose default action is already "ignore", so SIG_DFL already matches Go.
_IGNORED_BY_DEFAULT = {signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH}
# Go keeps SIGHUP and SIGINT ignored when the program started with them ignored
# (sigInstallGoHandler); CPython leaves both alone in that case too.
IGNORED_AT_START = frozenset(s for s in (signal.SIGHUP, signal.SIGINT) if signal.getsignal(s) == signal.SIG_IGN)
GO_HANDLED = frozenset(range(1, signal.NSIG)) - _UNTOUCHED - _UNCATCHABLE


def init() -> None:
    """Set this process's dispositions to what the Go runtime gives a program."""
    for sig in GO_HANDLED - IGNORED_AT_START - _THROW - _IGNORED_BY_DEFAULT - {_SIGSETXID}:
        # Caught-and-dropped signals become SIG_IGN. SIGPIPE stays ignored so
        # that writes to pipes fail with EPIPE; write() below dies for fd 1 and 2.
        disposition = signal.SIG_DFL if sig in _KILL else signal.SIG_IGN
        signal.signal(sig, disposition)
    # Go catches 33 too and drops it when it is not its own (kill -33 leaves a Go
    # program running). glibc installs its own handler only once a thread starts,
    # which the launcher never does; it refuses to set 33 itself, hence the raw call.
    from port import libc

    libc.set_signal_raw(_SIGSETXID, libc.SIG_IGN)


def reset_signals_for_child() -> None:
    """Go: runtime_AfterForkInChild: every signal Go handles back to SIG_DFL."""
    for sig in GO_HANDLED - IGNORED_AT_START - {_SIGSETXID}:
        signal.signal(sig, signal.SIG_DFL)
    from port import libc

    libc.set_signal_raw(_SIGSETXID, libc.SIG_DFL)


def write(fd: int, data: bytes) -> None:
    """Write all of data to fd; die of SIGPIPE on a broken fd 1 or 2, as Go does.

    Go: os/file_unix.go epipecheck and runtime sigpipe. Other errors are
    returned to Go callers that ignore them (fmt.Println, log), so they are
    dropped here too.
    """
    try:
        while data:
            data = data[os.write(fd, data) :]
    except BrokenPipeError:
        if fd in (1, 2):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGPIPE)
    except OSError:
        pass
