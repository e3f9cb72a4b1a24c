"""Give a Python process the start-up state a Go program has.

Before main, Go's runtime and its syscall package
- open /dev/null on any of fds 0, 1, 2 that is closed (runtime/fds_unix.go checkfds);
- install a handler for nearly every signal (runtime/signal_unix.go initsig,
  runtime/sigtab_linux_generic.go), even one inherited as ignored: SIGHUP,
  SIGINT and SIGTERM then kill the program, SIGPIPE kills it only for a
  write to fd 1 or 2, most others (SIGUSR1, SIGCHLD, ...) are caught and
  dropped; only SIGHUP and SIGINT stay ignored when they started ignored;
- unblock, in every thread, the signals it must see (minitSignalMask);
- raise the RLIMIT_NOFILE soft limit to hard-1 (syscall/rlimit.go).
A forked child gets the inherited state back: every handled signal to
SIG_DFL (clearSignalHandlers), the start-up signal mask, the original limit.
CPython does none of this, ignores SIGPIPE and SIGXFSZ, turns SIGINT into
KeyboardInterrupt, and ignored dispositions survive execve(2); init() and the
helpers below close that gap. write() is Go's poller for a std fd that is
non-blocking: wait until it is writable instead of dropping the bytes.
"""

import _signal as signal  # the C module: signal.py wraps everything in enums, ~3 ms a start
import errno
import os

from port.gotables import CRASHES

# Go: sigtable entries with _SigDefault (left alone: the system default, or
# what was inherited), the uncatchable ones, and those with _SigSetStack
# (32 and 34), which Go never touches. Signal 33 Go does handle
# (sigPerThreadSyscall, for setuid in every thread), so its child gets it
# back as SIG_DFL even when the program started with it ignored (GNU make
# starts its commands with 32 and 33 ignored); glibc will not set 33, hence
# the raw rt_sigaction. Signal 34 (musl's SIGSYNCCALL, _SigSetStack) Go leaves
# alone, so it kills a Go program (found by make trace's child: one more
# rt_sigaction than Go's).
_SIGSETXID = 33
_UNTOUCHED = {signal.SIGCONT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, 32, 34}
_UNCATCHABLE = {signal.SIGKILL, signal.SIGSTOP}
# Go: _SigKill signals (the program dies) and _SigThrow/_SigPanic ones (it
# crashes: the signal's runtime text, a goroutine dump, exit status 2; see _crash),
# which make tables reads from Go's runtime/sigtab_linux_generic.go.
_KILL = {signal.SIGHUP, signal.SIGINT, signal.SIGTERM}
_THROW = frozenset(CRASHES)
# What a fault raises: a handler that returns goes back to the faulting instruction.
_FAULTS = {signal.SIGILL, signal.SIGBUS, signal.SIGFPE, signal.SIGSEGV}
# Caught and dropped by Go; their default action is already "ignore", so
# SIG_DFL is Go's behaviour, and unlike SIG_IGN it keeps SIGCHLD's children
# waitable.
_IGNORED_BY_DEFAULT = {signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH}
# Go: blockableSig is false for _SigUnblock, _SigKill and _SigThrow signals and
# for sigPreempt (SIGURG); minitSignalMask unblocks them in every thread.
_UNBLOCKED = {
    signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGILL, signal.SIGTRAP, signal.SIGABRT,
    signal.SIGBUS, signal.SIGFPE, signal.SIGSEGV, signal.SIGTERM, signal.SIGSTKFLT, signal.SIGCHLD,
    signal.SIGURG, signal.SIGPROF, signal.SIGSYS, 32, 33, 34,
}  # fmt: skip
# Go keeps SIGHUP and SIGINT ignored when the program started with them ignored
# (sigInstallGoHandler); CPython leaves both alone in that case too.
IGNORED_AT_START = frozenset(s for s in (signal.SIGHUP, signal.SIGINT) if signal.getsignal(s) == signal.SIG_IGN)
GO_HANDLED = frozenset(range(1, signal.NSIG)) - _UNTOUCHED - _UNCATCHABLE

orig_rlimit_nofile: tuple[int, int] | None = None  # Go: syscall.origRlimitNofile
_RLIM_INFINITY = (1 << 64) - 1


_initialized = False  # init() has run: this process is a Go program's twin (wait_for_exit below)


def init() -> None:
    """Put this process in the state the Go runtime gives a program before main."""
    global _initialized
    _initialized = True
    _check_fds()
    _raise_nofile_limit()
    for sig in GO_HANDLED - IGNORED_AT_START - {_SIGSETXID}:
        # Caught-and-dropped signals become SIG_IGN. SIGPIPE stays ignored so
        # that writes to pipes fail with EPIPE; write() below dies for fd 1 and 2.
        if sig in _THROW:
            disposition = _crash
        elif sig in _KILL or sig in _IGNORED_BY_DEFAULT:
            disposition = signal.SIG_DFL
        else:
            disposition = signal.SIG_IGN
        signal.signal(sig, disposition)
    # Go catches 33 too and drops it when it is not its own (kill -33 leaves a Go
    # program running). glibc installs its own handler only once a thread starts,
    # which the launcher never does; it refuses to set 33 itself, hence the raw call.
    from port import libc

    libc.set_signal_raw(_SIGSETXID, libc.SIG_IGN)
    # CPython runs a handler later, between bytecodes: after a real fault the
    # instruction would fault again for ever. SA_RESETHAND makes that second fault
    # kill the process (as faulthandler does); one sent by kill reaches _crash.
    for sig in _FAULTS:
        libc.add_sigaction_flags(sig, libc.SA_RESETHAND | libc.SA_NODEFER)
    # glibc keeps 32 and 33 for itself and never blocks them (nor lets Python name them).
    # A child restores this unblocked mask, as Go's does (seen in tests/test_startup.py).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _UNBLOCKED - {32, 33})


def _check_fds() -> None:
    """Go: runtime.checkfds: a closed fd 0, 1 or 2 becomes /dev/null (read-write)."""
    for fd in range(3):
        try:
            os.get_inheritable(fd)  # fcntl(fd, F_GETFD)
        except OSError as e:
            if e.errno != errno.EBADF:
                raise
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                # Go prints the errno it still holds: fcntl's EBADF, not open's.
                msg = b"runtime: standard file descriptor %d closed, unable to open /dev/null, errno=%d\n"
                _throw(msg % (fd, e.errno), b"cannot open standard fds")
            if opened != fd:  # the lowest free fd: this one
                msg = b"runtime: opened unexpected file descriptor %d when attempting to open %d\n"
                _throw(msg % (opened, fd), b"cannot open standard fds")
            os.set_inheritable(fd, True)  # Go's open has no O_CLOEXEC


def _crash(sig: int, frame) -> None:
    """Go: runtime.sighandler for a _SigThrow signal (or a _SigPanic one sent by kill).

    Go prints the signal's runtime text ("SIGQUIT: quit"), then "PC=... m=0
    sigcode=0" and every goroutine's stack, and exits with status 2. The
    first line is Go's own; the machine state of the second (the PC, the M,
    the siginfo code) does not reach a Python handler, and Python's
    goroutines are its threads: faulthandler dumps their stacks instead.
    GOTRACEBACK=crash then dies of SIGABRT, as Go does; the other levels
    change nothing here (Go always dumps for a signal from outside).
    """
    import faulthandler

    write(2, CRASHES[sig].encode() + b"\n\n")
    faulthandler.dump_traceback(2, all_threads=True)
    if os.environ.get("GOTRACEBACK") == "crash":  # Go: runtime.crash, dieFromSignal(SIGABRT)
        signal.signal(signal.SIGABRT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGABRT})
        os.kill(os.getpid(), signal.SIGABRT)
        os._exit(128 + signal.SIGABRT)  # still here: PID 1, immune to a default-terminate signal
    os._exit(2)


def wait_for_exit(pidfd: int) -> None:
    """Block until the child behind pidfd has ended, running the handler of every signal that arrives
    meanwhile, as Go's runtime does in its own thread. A bare wait4 cannot: CPython runs a handler
    between bytecodes or when a call fails with EINTR, so a crash signal that lands after the last
    check and before wait4 blocks waited for the child to end (test_startup's SIGQUIT timed out in CI).
    Only in a program that ran init(): a library caller keeps its own handlers and its plain wait."""
    if _initialized:
        _block(pidfd, None)


def sleep(seconds: float) -> None:
    """Go: time.Sleep, during which a signal's handler runs at once (time.sleep can miss one, as above)."""
    _block(None, seconds)


def _block(fd: int | None, seconds: float | None) -> None:
    """Until fd is readable or the seconds are over, running signal handlers as signals come. The signal
    wakeup fd closes CPython's window: a signal after set_wakeup_fd writes a byte that ends the poll, one
    before it is run by _pending() (CPython checks on entering a Python function)."""
    import _socket
    import select
    import time

    r, w = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_NONBLOCK | _socket.SOCK_CLOEXEC)
    old = signal.set_wakeup_fd(w.fileno())
    try:
        _pending()
        poller = select.poll()
        poller.register(r.fileno(), select.POLLIN)
        if fd is not None:
            poller.register(fd, select.POLLIN)
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            if fd in {f for f, _ in poller.poll(None if left is None else left * 1000)}:
                return
            try:
                while r.recv(64):  # the bytes say only that a signal came
                    pass
            except BlockingIOError:
                pass
            _pending()
    finally:
        signal.set_wakeup_fd(old)
        r.close()
        w.close()


def _pending() -> None:
    """Nothing: entering a Python function is where CPython runs the handlers of signals received."""


def _throw(printed: bytes, reason: bytes) -> None:
    """Go: runtime.throw: its line, "fatal error: ...", exit status 2.

    Go then prints "runtime stack:" and the Go runtime's frames with their
    addresses, which have no counterpart here (tests/test_startup.py shows the gap).
    """
    write(2, printed + b"fatal error: " + reason + b"\n")
    os._exit(2)


def _raise_nofile_limit() -> None:
    """Go: syscall/rlimit.go init: soft RLIMIT_NOFILE to hard-1, remembering the original."""
    import resource

    global orig_rlimit_nofile
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    unsigned = [_RLIM_INFINITY if v == resource.RLIM_INFINITY else v for v in (soft, hard)]
    if unsigned[1] > 0 and unsigned[0] < unsigned[1] - 1:
        orig_rlimit_nofile = (soft, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (unsigned[1] - 1, hard))
        except (OSError, ValueError, OverflowError):
            pass  # Go ignores the error too


def restore_nofile_limit_in_child() -> None:
    """Go: forkAndExecInChild1, before ptrace: give back the original RLIMIT_NOFILE.

    Only when the limit is still the one set at start-up (hard-1): a later
    change, by the program or by prlimit(1) from outside, is kept.
    """
    if orig_rlimit_nofile is None:
        return
    import resource

    soft, hard = orig_rlimit_nofile
    cur, cur_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    max_ = _RLIM_INFINITY if hard == resource.RLIM_INFINITY else hard
    cur = _RLIM_INFINITY if cur == resource.RLIM_INFINITY else cur
    if cur == max_ - 1 and cur_hard == hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def reset_signals_for_child() -> None:
    """Go: runtime_AfterForkInChild: every signal Go handles back to SIG_DFL."""
    for sig in GO_HANDLED - IGNORED_AT_START - {_SIGSETXID}:
        signal.signal(sig, signal.SIG_DFL)
    from port import libc

    libc.set_signal_raw(_SIGSETXID, libc.SIG_DFL)


def godebug(key: str) -> str:
    """Go: internal/godebug: $GODEBUG is a comma list of key=value; the last one wins."""
    value = ""
    for item in os.environ.get("GODEBUG", "").split(","):
        k, eq, v = item.partition("=")
        if eq and k == key:
            value = v
    return value


def write(fd: int, data: bytes) -> None:
    """Write all of data to fd; die of SIGPIPE on a broken fd 1 or 2, as Go does.

    Go: os/file_unix.go epipecheck and runtime sigpipe. A non-blocking fd
    that is full (EAGAIN) is waited for, as Go's poller does. Other errors
    are returned to Go callers that ignore them (fmt.Println, log), so they
    are dropped here too.
    """
    try:
        while data:
            try:
                data = data[os.write(fd, data) :]
            except BlockingIOError:
                import select

                poller = select.poll()
                poller.register(fd, select.POLLOUT)
                poller.poll()
    except BrokenPipeError:
        if fd in (1, 2):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGPIPE)
    except OSError:
        pass
