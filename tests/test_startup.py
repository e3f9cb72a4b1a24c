"""Go's start-up behaviour in odd states: the port does what the Go programs do.

Each case starts the notes program and the launcher (as `launcher --clone
<the notes' six> -- sh`), Go and port, through tests/programs/startstate.py, which
execs them in the asked-for state: a closed std fd, signals inherited as
ignored or blocked, a low RLIMIT_NOFILE, an environment list that a mapping
cannot hold, a deleted current directory. Results are compared byte for byte
(log time masked), and the Go side's facts are asserted too, so a case cannot
pass by both failing alike. What Go does is in port/runtime.py's docstring.
"""

import fcntl
import functools
import os
import resource
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from port import gotables
from tests.support import procfs
from tests.support.launchers import NOTES, SYSPROCATTR
from tests.support.paths import PYTHON, ROOT, program
from tests.support.piped import LOG_TIME, Result, assert_same

pytestmark = pytest.mark.userns

SIX = ("--clone", "uts,ipc,pid,ns,user,net")
# Both programs end up running sh in the notes' six namespaces; the launcher's
# status is the shell's success (0) or 1, the notes' 255 or 1.
PROGRAMS = {
    "notes": (NOTES, 255, b"main starting...\n"),
    "launcher": ({k: (*v, *SIX, "--", "sh") for k, v in SYSPROCATTR.items()}, 0, b""),
}
STARTSTATE = program("startstate")


def _argv(prog: tuple, state: tuple = ()) -> list:
    return [*STARTSTATE, *state, "--", *prog]


def run(prog: tuple, stdin: bytes, state: tuple = (), env=None, **kw) -> Result:
    proc = subprocess.run(
        _argv(prog, state), input=stdin, capture_output=True, cwd=ROOT, env=env, timeout=20, **kw
    )  # fmt: skip
    return Result(proc.stdout, proc.stderr, proc.returncode)


def _run_plain(argv: tuple, env=None, cwd=ROOT) -> Result:
    proc = subprocess.run(argv, input=b"", capture_output=True, cwd=cwd, env=env, timeout=20)
    return Result(proc.stdout, proc.stderr, proc.returncode)


def both(which: str, stdin: bytes, state: tuple = (), **kw) -> Result:
    progs = PROGRAMS[which][0]
    go, py = run(progs["go"], stdin, state, **kw), run(progs["py"], stdin, state, **kw)
    assert_same(go, py)
    return go


def masked(err: bytes) -> bytes:
    return LOG_TIME.sub(b"", err)


@pytest.fixture(params=PROGRAMS, ids=str)
def which(request):
    return request.param


# --- fds 0, 1, 2 closed: Go opens /dev/null there (runtime.checkfds)


def test_stdin_closed(which):
    go = both(which, b"", ("--close", "0"))
    _, ok, banner = PROGRAMS[which]
    assert (go.stdout, go.stderr, go.status) == (banner, b"", ok)  # sh read /dev/null: end of input


def test_stdout_closed(which):
    go = both(which, b"exec 3>&1; readlink /proc/self/fd/3 >&2; exit 3\n", ("--close", "1"))
    assert (go.stdout, masked(go.stderr), go.status) == (b"", b"/dev/null\nexit status 3\n", 1)


def test_stderr_closed(which):
    go = both(which, b"readlink /proc/self/fd/2; exit 3\n", ("--close", "2"))
    _, _, banner = PROGRAMS[which]
    assert (go.stdout, go.stderr, go.status) == (banner + b"/dev/null\n", b"", 1)


# Hides /dev/null: an empty tmpfs on /dev, in a mount namespace of the test's own.
NO_DEV_NULL = (
    shutil.which("unshare") or "unshare",
    "--mount",
    "sh",
    "-c",
    'mount -t tmpfs none /dev && exec "$@"',
    "sh",
)


@pytest.mark.root
@pytest.mark.parametrize("fd", [0, 1, 2])
def test_closed_fd_and_no_dev_null_is_a_runtime_throw(which, fd):
    """Go's checkfds cannot open /dev/null for the closed fd: runtime.throw, status 2.

    A known difference follows Go's two lines: its "runtime stack:" dump of
    the Go runtime's own frames, which the port has no counterpart for.
    """
    progs = PROGRAMS[which][0]
    go, py = (run((*NO_DEV_NULL, *progs[k]), b"", ("--close", str(fd))) for k in ("go", "py"))
    # Go prints the errno it still holds from fcntl: EBADF (9), not open's ENOENT.
    lines = b"runtime: standard file descriptor %d closed, unable to open /dev/null, errno=9\n" % fd
    lines += b"fatal error: cannot open standard fds\n"
    assert (go.stdout, go.status) == (py.stdout, py.status) == (b"", 2)
    if fd == 2:  # the message went to the closed stderr
        assert go.stderr == py.stderr == b""
        return
    assert go.stderr.startswith(lines + b"\nruntime stack:\nruntime.throw(")
    assert py.stderr == lines


# --- signal dispositions and mask


IGNORED = ("HUP", "QUIT", "TRAP", "ABRT", "USR1", "CHLD", "URG", "WINCH", "PIPE", "XFSZ", "ALRM")
BLOCKED = ("TERM", "QUIT", "USR1", "CHLD", "URG", "HUP", "PROF")


def _signal_state() -> tuple:
    return (*(a for s in IGNORED for a in ("--ignore", s)), *(a for s in BLOCKED for a in ("--block", s)))


def _bits(*sigs: int) -> int:
    return sum(1 << (s - 1) for s in sigs)


def _inherited_32() -> int:
    """Signal 32 as this process has it: Go never touches it, so an ignored 32 (GNU make) stays ignored."""
    status = Path("/proc/self/status").read_text()
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    return ignored & _bits(32)


def test_sigchld_ignored_at_start(which):
    """CPython would auto-reap with SIGCHLD ignored; Go reinstalls its handler and waits normally."""
    go = both(which, b"echo ran; exit 3\n", ("--ignore", "CHLD"))
    _, _, banner = PROGRAMS[which]
    assert (go.stdout, masked(go.stderr), go.status) == (banner + b"ran\n", b"exit status 3\n", 1)


def test_ignored_and_blocked_signals_reach_the_command_as_under_go():
    """The command's dispositions and mask: Go resets what it handles, keeps SIGHUP ignored,
    and the child gets the launcher's mask, from which Go removed the signals it must see."""
    cmd = ("grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status")
    go, py = (run((*SYSPROCATTR[k], "--clone", "user,pid", "--", *cmd), b"", _signal_state()) for k in ("go", "py"))
    assert_same(go, py)
    want_blk = _bits(signal.SIGUSR1)  # SIGPROF: _SigUnblock
    want_ign = _bits(signal.SIGHUP) | _inherited_32()
    assert go.stdout == f"SigBlk:\t{want_blk:016x}\nSigIgn:\t{want_ign:016x}\n".encode()


def test_ignored_signals_under_notes_sh():
    go = both("notes", b"grep -E '^SigIgn' /proc/self/status; exit 3\n", _signal_state())
    assert go.stdout == b"main starting...\nSigIgn:\t%016x\n" % (_bits(signal.SIGHUP) | _inherited_32())


def _start_live(prog: tuple, state: tuple, **kw) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(_argv(prog, state), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT, **kw)  # fmt: skip
    try:
        sh = procfs.wait_for_descendant(proc.pid, "sh")
        procfs.wait_until_reading_stdin(sh)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    return proc, sh


def _end_orphan(proc: subprocess.Popen, sh: int) -> None:
    """The launcher is gone; end its shell (end of input) and reap it: the suite is its subreaper."""
    proc.stdin.close()
    try:
        os.waitpid(sh, 0)
    except ChildProcessError:  # not re-parented to us: wait until it is gone
        while procfs.state(sh) not in (None, "Z"):
            time.sleep(0.01)


@pytest.mark.root
def test_blocked_sigterm_still_kills_the_launcher(which):
    """Go unblocks SIGTERM at start (minitSignalMask): SIGTERM kills it even when it started blocked."""
    statuses = {}
    for k, prog in PROGRAMS[which][0].items():
        proc, sh = _start_live(prog, ("--block", "TERM", "--ignore", "CHLD"))
        os.kill(proc.pid, signal.SIGTERM)  # the pid we started
        statuses[k] = proc.wait(timeout=20)
        _end_orphan(proc, sh)
        proc.stdout.close()
        proc.stderr.close()
    assert statuses == {"go": -signal.SIGTERM, "py": -signal.SIGTERM}


# --- RLIMIT_NOFILE


def test_low_nofile_limit(which):
    """Go raises the soft limit at start and gives the command the original back."""
    go = both(which, b"ulimit -n; exit 3\n", ("--nofile", "8"))
    _, _, banner = PROGRAMS[which]
    assert (go.stdout, masked(go.stderr), go.status) == (banner + b"8\n", b"exit status 3\n", 1)


@pytest.mark.root
def test_launcher_runs_with_the_raised_limit(which):
    limits = {}
    for k, prog in PROGRAMS[which][0].items():
        proc, _ = _start_live(prog, ("--nofile", "8"))
        try:
            lines = Path(f"/proc/{proc.pid}/limits").read_text().splitlines()
            limits[k] = next(line for line in lines if line.startswith("Max open files"))
        finally:
            proc.communicate(b"exit 0\n", timeout=20)
    hard = int(limits["go"].split()[4])
    assert limits["go"].split()[3] == str(hard - 1)  # Go: soft = hard - 1
    assert limits["go"] == limits["py"]


# --- a non-blocking std fd that is full: Go's poller waits


_POLL_SYSCALLS = {"7", "23", "232", "270", "271", "281", "441"}  # x86_64 poll, select, epoll_wait, ...


def _waiting_to_write(pid: int) -> bool:
    """Whether pid is waiting in a poll-like call (Go's poller, the port's poll) or has exited."""
    if procfs.state(pid) in (None, "Z"):
        return True
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True
    for tid in tasks:
        try:
            if Path(f"/proc/{pid}/task/{tid}/syscall").read_text().split()[0] in _POLL_SYSCALLS:
                return True
        except (OSError, IndexError):
            pass
    return False


def _full_nonblocking_pipe() -> tuple[int, int, int]:
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)
    os.set_blocking(w, False)
    filled = 0
    try:
        while True:
            filled += os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    return r, w, filled


def _run_with_full_fd(prog: tuple, fd: int, stdin: bytes) -> tuple[bytes, int]:
    r, w, filled = _full_nonblocking_pipe()
    other = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    other["stdout" if fd == 1 else "stderr"] = w
    try:
        proc = subprocess.Popen(_argv(prog), stdin=subprocess.PIPE, cwd=ROOT, **other)
    finally:
        os.close(w)
    with proc:
        proc.stdin.write(stdin)
        proc.stdin.close()
        # Drain only once the program met the full pipe: it waits (Go) or has dropped the
        # bytes and exited (what the port did). The deadline bounds a hang; it asserts nothing.
        deadline = time.monotonic() + 10
        while not _waiting_to_write(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        return data[filled:], proc.wait(timeout=20)


@pytest.mark.root
def test_full_nonblocking_stdout_waits_for_room():
    out = {k: _run_with_full_fd(prog, 1, b"exit 3\n") for k, prog in NOTES.items()}
    assert out["go"] == (b"main starting...\n", 1)
    assert out["py"] == out["go"]


@pytest.mark.root
def test_full_nonblocking_stderr_waits_for_room(which):
    out = {k: _run_with_full_fd(prog, 2, b"exit 3\n") for k, prog in PROGRAMS[which][0].items()}
    assert masked(out["go"][0]) == b"exit status 3\n" and out["go"][1] == 1
    assert masked(out["py"][0]) == masked(out["go"][0]) and out["py"][1] == 1


# --- GODEBUG, parsed as Go parses it


def _fake_sh_dir(tmp_path: Path) -> Path:
    d = tmp_path / "bin"
    d.mkdir()
    (d / "sh").write_bytes(b"#!/bin/sh\necho fake; exit 4\n")
    (d / "sh").chmod(0o755)
    return tmp_path


@pytest.mark.parametrize(
    ("godebug", "allowed"),
    [("execerrdot=0", True), ("xexecerrdot=0", False), ("execerrdot=0,execerrdot=1", False),
     ("execerrdot=1,execerrdot=0", True), ("foo,execerrdot=0,", True), ("execerrdot=00", False),
     (" execerrdot=0", False)],
)  # fmt: skip
def test_godebug_execerrdot(tmp_path, which, godebug, allowed):
    """A comma list of key=value, the last one wins; no substring match."""
    env = {**os.environ, "PATH": "bin", "GODEBUG": godebug}
    cwd = _fake_sh_dir(tmp_path)
    go, py = (_run_plain(prog, env=env, cwd=cwd) for prog in PROGRAMS[which][0].values())
    assert_same(go, py)
    _, _, banner = PROGRAMS[which]
    if allowed:
        assert (go.stdout, masked(go.stderr)) == (banner + b"fake\n", b"exit status 4\n")
    else:
        assert masked(go.stderr) == b'exec: "sh": cannot run executable found relative to current directory\n'


# --- the environment is a list


# LC_CTYPE=xx after an entry without "=": CPython coerces it to C.UTF-8 in os.environ, and the port passes on
# the one the program started with, wherever it stands in the list.
ENV_LIST = ("PATH=/usr/bin:/bin", "A=1", "A=2", "=x", "=a=b", "noeq", "LC_CTYPE=xx", "", "B=", "=", "C=3", "C=4")


def test_environment_list_reaches_sh_as_go_passes_it(which):
    state = tuple(a for e in ENV_LIST for a in ("--env", e))
    environs = {}
    for k, prog in PROGRAMS[which][0].items():
        proc, sh = _start_live(prog, state)
        try:
            environs[k] = Path(f"/proc/{sh}/environ").read_bytes()
        finally:
            proc.communicate(b"exit 0\n", timeout=20)
    # Go: syscall.Environ keeps the first of duplicate names and entries without "=",
    # then exec's dedupEnv keeps the last of each key ("=x" and "=" share the key "").
    assert environs["go"] == b"PATH=/usr/bin:/bin\0A=1\0=x\0noeq\0LC_CTYPE=xx\0B=\0C=3\0"
    assert environs["py"] == environs["go"]


# --- bytes that are not UTF-8, and Go's quoting


def test_path_dir_not_utf8(tmp_path):
    d = tmp_path / os.fsdecode(b"d\xff\xc2\xa0")
    d.mkdir()
    (d / "sh").write_bytes(b"\x7fELF garbage")
    (d / "sh").chmod(0o755)
    env = {**os.environ, "PATH": str(d)}
    go = both("notes", b"", env=env)
    assert masked(go.stderr) == b"fork/exec " + os.fsencode(d) + b"/sh: exec format error\n"


@pytest.mark.parametrize(
    "args",
    [[b"\xff"], [b"a\xc2\xa0"], [b"\xe2\x80\xa8x"], [b"t\tq\"\\"], [b"--dir", b"/nonexistent\xff", b"true"],
     [b"--clone=\xff", b"true"], [b"--uid-map", b"\xc2\xa0", b"true"], [b"--cgroup", b"/nonexistent\xff", b"true"],
     [b"--pdeathsig", b"\xff", b"true"], [b"--chroot", b"/nonexistent\xfe", b"true"], [b"-H"], [b"--versions"],
     [b"--help-all"], [b""], [b"/"], [b"dir/"], [b"--\xff"]],
    ids=repr,
)  # fmt: skip
def test_launcher_bytes_and_quoting(args):
    go, py = (_run_plain((*SYSPROCATTR[k], *args)) for k in ("go", "py"))
    assert_same(go, py)
    assert go.stderr.count(b"\n") == 1 and go.status in (1, 2)
    if go.status == 2:
        assert go.stderr.startswith(b"launcher: ")


def test_go_quotes_names_in_messages():
    go = _run_plain((*SYSPROCATTR["go"], b"a\xc2\xa0\xff"))
    assert masked(go.stderr) == b'exec: "a\\u00a0\\xff": executable file not found in $PATH\n'


# --- a deleted current directory


@pytest.mark.parametrize(("dir_", "want"), [("sub", b"getwd: no such file or directory\n"), ("/", b"")])
def test_deleted_cwd_with_dir(tmp_path, dir_, want):
    go, py = (
        run((*prog, "--dir", dir_, "true"), b"", ("--cwd-deleted", str(tmp_path / f"gone-{uuid.uuid4().hex}")))
        for prog in SYSPROCATTR.values()
    )
    assert_same(go, py)
    assert (masked(go.stderr), go.status) == (want, 1 if want else 0)


# --- Go's crash signals


@pytest.mark.root
@pytest.mark.parametrize(
    ("sig", "state"),
    [(signal.SIGQUIT, ()), (signal.SIGQUIT, ("--ignore", "QUIT")), (signal.SIGABRT, ()), (signal.SIGSEGV, ()),
     (signal.SIGFPE, ()), (signal.SIGSYS, ())],
    ids=["QUIT", "QUIT-ignored-at-start", "ABRT", "SEGV", "FPE", "SYS"],
)  # fmt: skip
def test_crash_signal_prints_the_runtime_text_and_exits_2(which, sig, state):
    """Go's runtime turns a _SigThrow signal, or a _SigPanic one sent by kill, into its sigtable
    text, a dump of every goroutine and exit status 2, even when the signal started ignored.
    The port prints the same first line; then Go's machine state ("PC=... m=0 sigcode=0") and
    goroutines, where the port's dump is every Python thread's stack (faulthandler)."""
    results = {}
    for k, prog in PROGRAMS[which][0].items():
        proc, sh = _start_live(prog, state)
        os.kill(proc.pid, sig)  # the pid we started
        status = proc.wait(timeout=20)
        _end_orphan(proc, sh)  # the shell holds stderr too: end it before reading to the end
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        results[k] = (status, out, *err.split(b"\n", 2))
    go, py = results["go"], results["py"]
    assert go[:3] == py[:3]  # status, stdout, the first line of stderr
    assert go[0] == 2 and go[2] == f"{gotables.CRASHES[sig]}".encode()
    assert go[3].startswith(b"PC=0x") and b"\ngoroutine 1 " in go[4]
    assert py[3] == b"" and py[4].startswith(b"Current thread 0x") and b"in main\n" in py[4]


@pytest.mark.root
def test_gotraceback_crash_dies_of_sigabrt_after_the_dump(which):
    """GOTRACEBACK=crash: after the dump Go's runtime raises SIGABRT on itself (runtime.crash)."""
    env = {**os.environ, "GOTRACEBACK": "crash"}
    no_core = functools.partial(resource.setrlimit, resource.RLIMIT_CORE, (0, 0))  # no core file left
    results = {}
    for k, prog in PROGRAMS[which][0].items():
        proc, sh = _start_live(prog, (), env=env, preexec_fn=no_core)
        os.kill(proc.pid, signal.SIGQUIT)  # the pid we started
        status = proc.wait(timeout=20)
        _end_orphan(proc, sh)
        results[k] = (status, proc.stderr.read().split(b"\n", 1)[0])
        proc.stdout.close()
        proc.stderr.close()
    assert results == {k: (-signal.SIGABRT, b"SIGQUIT: quit") for k in ("go", "py")}


@pytest.mark.root
def test_a_real_fault_kills_the_port_instead_of_looping():
    """The port's crash handler is a Python one, run between bytecodes; after a real fault
    SA_RESETHAND lets the repeated fault kill the process (Go, with no bytecodes, panics)."""
    code = "from port import runtime; runtime.init(); import ctypes; ctypes.string_at(0)"
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, cwd=ROOT, timeout=20)
    assert proc.returncode == -signal.SIGSEGV
