"""The helper programs Go's tests get by re-executing their own test binary.

    python tests/go_upstream/helper.py NAME ARG...

Each NAME is one of Go's helperCommands (os/exec/exec_test.go,
exec_posix_test.go) or one of the GO_WANT_HELPER_PROCESS branches of the
syscall tests, doing what the Go function does. Those that must behave like
a Go program (start-up state, its own children) call port.runtime.init and
use port.exec, since the Go helper is itself a Go program using os/exec.
"""

import os
import sys

# re, signal, subprocess, threading and time are imported where used: together they were most of
# a start (~12 ms of ~35), and a Go test starts this helper about 80 times a run.

HELPER = os.path.abspath(__file__)


def _duration(text: str) -> float:
    """Go: time.ParseDuration, for the forms the tests pass ("1ms", "10m0s", "0s")."""
    import re

    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"([0-9.]+)(ms|us|µs|ns|h|m|s)", text)
    if text != "0" and "".join(n + u for n, u in parts) != text:
        raise SystemExit(f"bad duration {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


def _go_duration(seconds: float) -> str:
    if seconds >= 60:
        return f"{int(seconds // 60)}m{int(seconds % 60)}s"
    return f"{seconds * 1000:g}ms" if seconds < 1 else f"{seconds:g}s"


def _out(data: bytes, fd: int = 1) -> None:
    while data:
        data = data[os.write(fd, data) :]


# --- os/exec helperCommands


def cmd_echo(*args: str) -> None:
    _out((" ".join(args) + "\n").encode())


def cmd_echoenv(*args: str) -> None:
    for name in args:
        _out(os.environb.get(name.encode(), b"") + b"\n")


def cmd_cat(*args: str) -> None:
    if not args:
        while chunk := os.read(0, 65536):
            _out(chunk)
        return
    status = 0
    for name in args:
        try:
            with open(name, "rb") as f:
                _out(f.read())
        except OSError as e:
            _out(f"Error: open {name}: {os.strerror(e.errno).lower()}\n".encode(), 2)
            status = 2
    sys.exit(status)


def cmd_pipetest(*_args: str) -> None:
    for line in sys.stdin.buffer:
        if line.startswith(b"O:"):
            _out(line.rstrip(b"\n") + b"\n", 1)
        elif line.startswith(b"E:"):
            _out(line.rstrip(b"\n") + b"\n", 2)
        else:
            sys.exit(1)


STDIN_CLOSE_TEST_STRING = b"Some test string."


def cmd_stdinClose(*_args: str) -> None:
    data = sys.stdin.buffer.read()
    if data != STDIN_CLOSE_TEST_STRING:
        _out(b"Error: Read %r, want %r" % (data, STDIN_CLOSE_TEST_STRING), 2)
        sys.exit(1)


def cmd_exit(code: str, *_args: str) -> None:
    sys.exit(int(code))


def cmd_describefiles(*_args: str) -> None:
    import socket

    try:
        s = socket.socket(fileno=3)
    except OSError:
        return
    if s.type == socket.SOCK_STREAM and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        host, port = s.getsockname()[:2]
        _out(f"fd3: listener {host}:{port}\n".encode())
    s.detach()


def cmd_stderrfail(*_args: str) -> None:
    _out(b"some stderr text\n", 2)
    sys.exit(1)


def cmd_yes(*args: str) -> None:
    line = (" ".join(args or ["y"]) + "\n").encode()
    try:
        while True:
            _out(line)
    except OSError:
        sys.exit(1)


def cmd_hang(sleep: str, *flags: str) -> None:
    """Go: cmdHang: sleep, maybe after leaving an orphan behind, reading stdin, probing stderr."""
    import signal
    import subprocess
    import threading
    import time

    from port import runtime

    runtime.init()  # a Go program: SIGQUIT makes it dump its stacks and exit 2
    opts = {"interrupt": "false", "subsleep": "0s", "probe": "0s", "read": "false"}
    for flag in flags:
        name, _, value = flag.lstrip("-").partition("=")
        opts[name] = value or "true"
    pid = os.getpid()
    subsleep, probe = _duration(opts["subsleep"]), _duration(opts["probe"])
    if subsleep:
        args = [sys.executable, HELPER, "hang", _go_duration(subsleep), "-read=true", f"-probe={_go_duration(probe)}"]
        child = subprocess.Popen(args, stdin=0, stdout=subprocess.PIPE, stderr=2)
        child.stdout.read()  # until the orphan closes its stdout
        _out(f"{pid}: started {child.pid}: {' '.join(args)}\n".encode(), 2)
    if opts["interrupt"] == "true":

        def on_interrupt(_sig, _frame):
            _out(f"{pid}: received interrupt\n".encode(), 2)
            os._exit(0)

        signal.signal(signal.SIGINT, on_interrupt)
    else:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.close(1)
    if opts["read"] == "true":
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        while line := sys.stdin.buffer.readline():
            _out(f"{pid}: read ".encode() + line, 2)
        _out(f"{pid}: finished read: EOF".encode(), 2)
    if probe:

        def probing():
            while True:
                time.sleep(probe)
                try:
                    _out(f"{pid}: ok\n".encode(), 2)
                except OSError:
                    os._exit(1)

        threading.Thread(target=probing, daemon=True).start()
    if seconds := _duration(sleep):
        # Not time.sleep: a signal landing between CPython's last check and clock_nanosleep waited out
        # the whole sleep (TestWaitInterrupt's interrupt, sent as the helper closes its stdout, hung 8 runs
        # in 1,800 under load; none in 2,600 since). Go runs its handler at once, and so does this.
        runtime.sleep(seconds)
        _out(f"{pid}: slept {sleep}\n".encode(), 2)


def cmd_pwd(*_args: str) -> None:
    from port import exec

    try:
        print(exec.getwd())
    except Exception as e:  # noqa: BLE001 - Go prints the error
        print(e, file=sys.stderr)
        sys.exit(1)


def cmd_signaltest(*_args: str) -> None:
    """Go: cmdSignalTest: starting and waiting for one child raises exactly one SIGCHLD."""
    import signal

    from port import exec, runtime

    runtime.init()
    count = 0

    def on_sigchld(_sig, _frame):
        nonlocal count
        count += 1
        _out(f"SIGCHLD {count}\n".encode())
        if count > 1:
            _out(b"too many SIGCHLD signals\n")
            os._exit(1)

    signal.signal(signal.SIGCHLD, on_sigchld)
    cmd = exec.Command(sys.executable, HELPER, "hang", "200ms")
    cmd.stdout, cmd.stderr = 1, 2
    try:
        cmd.run()
    except Exception as e:  # noqa: BLE001
        _out(f"failed to run child process: {e}\n".encode())
        sys.exit(1)


# --- syscall tests' GO_WANT_HELPER_PROCESS branches


def cmd_mount_proc(directory: str) -> None:
    """TestUnshareMountNameSpace: mount proc on the directory (in the child's own mount namespace)."""
    from port import libc

    try:
        libc.mount("none", directory, "proc", 0)
    except OSError as e:
        _out(f"unshare: mount {directory}: {os.strerror(e.errno)}\n".encode(), 2)
        sys.exit(2)


def cmd_print_file(path: str) -> None:
    with open(path, "rb") as f:
        _out(f.read())


def cmd_readlink(path: str) -> None:
    _out(os.readlink(path).encode())


def cmd_sleep(seconds: str) -> None:
    import time

    time.sleep(float(seconds))


def cmd_go_sleep(seconds: str) -> None:
    """Go's helper sleeping an hour: as a Go program, SIGINT kills it (port.runtime.init)."""
    import time

    from port import runtime

    runtime.init()
    time.sleep(float(seconds))


def cmd_chroot_tmp(*_args: str) -> None:
    """TestUnshareUidGidMapping: chroot to the temporary directory works in the new user namespace."""
    try:
        os.chroot(os.environ.get("TMPDIR", "/tmp"))
    except OSError as e:
        _out(f"{os.strerror(e.errno).lower()}\n".encode(), 2)
        sys.exit(2)


def cmd_orig_rlimit(*_args: str) -> None:
    """TestRlimitRestored's helper: a Go program's original soft RLIMIT_NOFILE (what init raised)."""
    from port import runtime

    runtime.init()
    orig = runtime.orig_rlimit_nofile
    _out(f"{orig[0] if orig else 'nil'}\n".encode())


def cmd_rlimit_restored(*_args: str) -> None:
    """TestRlimitRestored, run as a Go program: the child's soft limit is the one this program started with."""
    import resource

    from port import exec, runtime

    runtime.init()
    orig = runtime.orig_rlimit_nofile
    if orig is None:
        _out(b"skip: rlimit not adjusted at startup\n")
        return
    out = exec.Command(sys.executable, "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])")
    got = int(out.combined_output().strip())
    want = orig[0] if orig[0] != resource.RLIM_INFINITY else -1
    _out(f"exec rlimit = {got}, want {want}\n".encode() if got != want else b"ok\n")


def cmd_nofile(soft: str, name: str, *args: str) -> None:
    """Start helper NAME with this soft RLIMIT_NOFILE, as a shell's `ulimit -Sn` would."""
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (int(soft), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    os.execv(sys.executable, [sys.executable, HELPER, name, *args])


def cmd_prlimit1(*_args: str) -> None:
    """TestPrlimitFileLimit helper 1: after prlimit from outside, a child keeps the changed limit."""
    from port import exec, runtime

    runtime.init()
    os.write(4, b"\0")
    if os.read(3, 1) != b"\0":
        sys.exit("read from the parent failed")
    os.close(3)
    os.close(4)
    cmd = exec.Command(sys.executable, HELPER, "prlimit2")
    try:
        out = cmd.combined_output()
    except exec.GoError as e:
        _out(f"grandchild failed: {e}\n{getattr(e, 'output', b'').decode()}".encode())
        sys.exit(1)
    _out(out + b"OK\n")


def cmd_prlimit2(*_args: str) -> None:
    from port import runtime

    runtime.init()
    cached = runtime.orig_rlimit_nofile
    if cached is None:
        sys.exit("no cached rlimit")
    if cached[0] != 42:
        sys.exit(f"cached rlimit is {cached[0]}, want 42")
    _out(b"OK\n")


def cmd_deathsig_parent(uid: str, gid: str, child: str) -> None:
    """TestDeathSignalSetuid's parent: run the child as another user with Pdeathsig SIGUSR1."""
    import signal

    from port import exec, runtime
    from port.sysprocattr import Credential, SysProcAttr

    runtime.init()
    cmd = exec.Command("/bin/sh", child)
    cmd.stdin, cmd.stdout = 0, 1
    cmd.sys_proc_attr = SysProcAttr(pdeathsig=signal.SIGUSR1, credential=Credential(int(uid), int(gid)))
    try:
        cmd.start()
    except exec.GoError as e:
        _out(f"{e}\n".encode(), 2)
        sys.exit(1)
    try:
        cmd.wait()
    except exec.GoError:
        pass


def _foreground(watch_signals: bool) -> None:
    """TestForeground / TestForegroundSignal, in a process whose controlling terminal is a pty."""
    import signal

    from port import exec
    from port.sysprocattr import SysProcAttr

    received = []
    if watch_signals:  # Go: signal.Notify(ch1, SIGTTIN, SIGTTOU): none may arrive
        for sig in (signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, lambda s, _f: received.append(s))
    else:
        for sig in (signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, signal.SIG_IGN)
    tty = os.open("/dev/tty", os.O_RDWR)
    fpgrp = os.tcgetpgrp(tty)
    assert fpgrp != 0, "Foreground process group is zero"
    ppid, ppgrp = os.getpid(), os.getpgrp()
    cmd = exec.Command("cat")
    stdin = cmd.stdin_pipe()
    cmd.sys_proc_attr = SysProcAttr(ctty=tty, foreground=True)
    cmd.start()
    cpid, cpgrp = cmd.process.pid, os.getpgid(cmd.process.pid)
    problems = []
    if not watch_signals:
        if cpid == ppid:
            problems.append("Parent and child have the same process ID")
        if cpgrp == ppgrp:
            problems.append("Parent and child are in the same process group")
        if cpid != cpgrp:
            problems.append("Child's process group is not the child's process ID")
    stdin.close()
    cmd.wait()
    for sig in (signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(sig, signal.SIG_IGN)
    os.tcsetpgrp(tty, fpgrp)
    problems += [f"unexpected signal {signal.Signals(s).name}" for s in received]
    print("\n".join(problems) or "PASS")


def cmd_foreground(*_args: str) -> None:
    _foreground(False)


def cmd_foreground_signal(*_args: str) -> None:
    _foreground(True)


COMMANDS = {name.removeprefix("cmd_"): fn for name, fn in globals().items() if name.startswith("cmd_")}
COMMANDS.update({name.replace("_", "-"): fn for name, fn in list(COMMANDS.items())})


def main(argv: list[str]) -> None:
    if not argv:
        _out(b"No command\n", 2)
        sys.exit(2)
    name, args = argv[0], argv[1:]
    if name not in COMMANDS:
        _out(f'Unknown command "{name}"\n'.encode(), 2)
        sys.exit(2)
    COMMANDS[name](*args)
    sys.exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
