"""The signal state every launcher starts from: default dispositions and an empty mask.

tests/conftest.py sets it for the whole suite, scripts/workloads.py for its run,
so a result never depends on how the run was started (from a non-interactive
shell's background job, under nohup).
"""

import signal


def clean_signal_state() -> None:
    """Start every launcher from default dispositions and an empty mask.

    Ignored dispositions survive execve: a suite started in the background by
    a non-interactive shell (SIGINT, SIGQUIT ignored) or under nohup (SIGHUP)
    would hand them to every launcher, and Go and the port rightly keep them,
    so tests that set their own start state would see extra bits. As pexpect's
    own test case does, undo that here. SIGPIPE and SIGXFSZ are CPython's own
    (subprocess and the port reset them in children); 32 and 33 belong to
    glibc, which will not set them (the tests read them as inherited).
    """
    for sig in set(range(1, 32)) - {signal.SIGKILL, signal.SIGSTOP, signal.SIGPIPE, signal.SIGXFSZ}:
        if signal.getsignal(sig) == signal.SIG_IGN:
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
