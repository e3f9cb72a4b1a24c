"""Behaviours no other test looked at (issue 14's mutation run found them unguarded).

Go is the reference where the launchers can show the behaviour (build/launcher-go
vs python -m port.launcher); otherwise the test asserts what Go documents and
does, in-process through port.exec.
"""

import copy
import os
import signal
import subprocess
import sys
import time

import pytest

from port import exec, exec_linux, libc
from port.errors import GoError, PathError
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, Credential, SysProcAttr, SysProcIDMap
from tests.support import procfs
from tests.support.launchers import GO, LAUNCHER_GO, LAUNCHER_PY, PY
from tests.support.piped import LOG_TIME, assert_same
from tests.support.piped import run as run_piped

pytestmark = pytest.mark.userns

STRATEGIES = exec_linux.STRATEGIES


def launch(launcher, args, prefix=(), **kw) -> tuple[bytes, bytes, int]:
    kw.setdefault("stdin", subprocess.DEVNULL)
    proc = subprocess.run([*prefix, *launcher, *args], capture_output=True, timeout=20, **kw)
    return proc.stdout, LOG_TIME.sub(b"", proc.stderr), proc.returncode


def both(args, **kw) -> tuple[bytes, bytes, int]:
    go, py = launch(LAUNCHER_GO.argv, args, **kw), launch(LAUNCHER_PY.argv, args, **kw)
    assert go == py
    return go


@pytest.fixture(params=STRATEGIES)
def strategy(request):
    """Run an in-process test under each way of getting the child of a new PID namespace (the test
    sets cmd.strategy)."""
    return request.param


# --- PWD: Go's Cmd.Environ appends PWD=<absolute Dir> when Env is nil --------------------------


@pytest.mark.parametrize("dir_arg", [None, ".", "sub", "/"], ids=["no-dir", "dot", "relative", "root"])
def test_pwd_in_the_childs_environment(dir_arg, tmp_path):
    """Read by the child from /proc/self/environ: sh would recompute $PWD itself."""
    (tmp_path / "sub").mkdir()
    env = {"PATH": os.environ["PATH"], "PWD": "/stale", "A": "1"}
    args = (["--dir", dir_arg] if dir_arg else []) + ["--", "cat", "/proc/self/environ"]
    out, err, status = both(args, env=env, cwd=tmp_path)
    assert (err, status) == (b"", 0)
    entries = out.split(b"\0")[:-1]
    want = {None: "/stale", ".": str(tmp_path), "sub": str(tmp_path / "sub"), "/": "/"}[dir_arg]
    assert [e for e in entries if e.startswith(b"PWD=")] == [f"PWD={want}".encode()]  # the last value wins


def test_pwd_not_added_when_env_is_set(tmp_path):
    """Go adds PWD only when Cmd.Env is nil, so an explicit environment is passed as is."""
    cmd = exec.Command("cat", "/proc/self/environ")
    cmd.env, cmd.dir = ["A=1"], str(tmp_path)
    assert cmd.output() == b"A=1\0"


# --- descriptors of the launcher process itself ---------------------------------------------------


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


CONFIGS = {
    "plain": None,
    "new-pid-ns": SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID),
    "mapped": SysProcAttr(cloneflags=CLONE_NEWUSER, uid_mappings=[SysProcIDMap(0, os.geteuid(), 1)],
                          gid_mappings=[SysProcIDMap(0, os.getegid(), 1)]),
    "mapped-new-pid-ns": SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID,
                                     uid_mappings=[SysProcIDMap(0, os.geteuid(), 1)]),
}  # fmt: skip


@pytest.mark.parametrize("attr", CONFIGS.values(), ids=CONFIGS.keys())
def test_start_leaves_no_descriptor_open(attr, strategy):
    """/dev/null for unset streams and every pipe end are closed, and the process handle (a pidfd, as
    Go 1.23's os.Process keeps) released once Wait returns."""
    before = open_fds()
    cmd = exec.Command("sh", "-c", "exit 0")
    cmd.strategy = strategy
    cmd.sys_proc_attr = attr
    cmd.start()
    cmd.wait()
    assert open_fds() == before


@pytest.mark.parametrize("attr", CONFIGS.values(), ids=CONFIGS.keys())
def test_failed_start_leaves_no_descriptor_or_zombie(attr, strategy):
    """A child that fails after the fork (here at chroot, after adoption in a new PID namespace)
    is reaped by Start, and its pipes are closed: Go returns the error with nothing left over."""
    fds, zombies = open_fds(), zombie_children()
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = copy.copy(attr or SysProcAttr())
    cmd.sys_proc_attr.chroot = "/nonexistent"
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: no such file or directory$"):
        cmd.start()
    assert open_fds() == fds
    assert zombie_children() == zombies


def test_failed_start_closes_the_pid_fd_and_sets_it_to_minus_one(strategy):
    """Go's forkAndExecFailureCleanup: after the child fails, the pidfd Start opened for it is closed
    and *PidFD is -1, whatever the caller left there."""
    fds = open_fds()
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = SysProcAttr(pid_fd=[1234], chroot="/nonexistent")
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: no such file or directory$"):
        cmd.start()
    assert cmd.sys_proc_attr.pid_fd == [-1]
    assert open_fds() == fds


def zombie_children() -> set[int]:
    me = os.getpid()
    return {pid for pid in procfs.children_map().get(me, []) if procfs.state(pid) == "Z"}


def test_pid_fd_is_opened_for_the_child_not_a_leak():
    cmd = exec.Command("true")
    cmd.sys_proc_attr = SysProcAttr(pid_fd=[-1])
    before = open_fds()
    cmd.run()
    (fd,) = cmd.sys_proc_attr.pid_fd
    try:
        assert open_fds() == before | {fd}
    finally:
        os.close(fd)


# --- SIGPIPE on a broken stderr (Go: epipecheck dies of SIGPIPE for fd 1 and 2) -------------------


@pytest.mark.parametrize(
    "args", [["--", "sh", "-c", "exit 3"], ["--", "no-such-command-nsport"]], ids=["exit", "not-found"]
)
def test_broken_stderr_kills_the_launcher_with_sigpipe(args):
    """The launcher logs its error to a stderr whose reader is gone: Go dies of SIGPIPE."""
    r, w = os.pipe()
    os.close(r)
    try:
        go, py = launch_with_stderr(LAUNCHER_GO.argv, args, w), launch_with_stderr(LAUNCHER_PY.argv, args, w)
    finally:
        os.close(w)
    assert go == py == -signal.SIGPIPE


def launch_with_stderr(launcher, args, stderr) -> int:
    return subprocess.run([*launcher, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                          timeout=20).returncode  # fmt: skip


# --- the RELAY strategy ends the way its child ended, as the launcher would see the child itself ---

END = {
    "exit-7": ("sh", "-c", "exit 7"),
    # A real fault kills even a namespace's PID 1; no core file is asked for.
    "segfault": ("sh", "-c", "ulimit -c 0; exec python3 -c 'import ctypes; ctypes.string_at(0)'"),
}


@pytest.mark.parametrize("pdeathsig", [0, signal.SIGTERM], ids=["", "pdeathsig"])
@pytest.mark.parametrize("end", END.values(), ids=END.keys())
def test_new_pid_namespace_child_ends_the_same_under_both_strategies(end, pdeathsig):
    """RELAY's middle process ends as its child did; with a Pdeathsig it must not end any sooner."""
    seen = {}
    for strategy in STRATEGIES:
        cmd = exec.Command(*end)
        cmd.strategy = strategy
        cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID, pdeathsig=pdeathsig)
        with pytest.raises(exec.ExitError) as e:
            cmd.run()
        seen[strategy] = str(e.value)
    assert seen == dict.fromkeys(STRATEGIES, {"exit-7": "exit status 7", "segfault": "signal: segmentation fault"}[
        next(k for k, v in END.items() if v == end)])  # fmt: skip


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


# --- look_path ---------------------------------------------------------------------------------


def executable(path, text="#!/bin/sh\necho ran $0\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


NOT_FOUND = "executable file not found in $PATH"
DOT = "cannot run executable found relative to current directory"
LOOK = {  # PATH, command name, what Go prints (stdout, stderr without the log time)
    "directory-skipped": lambda d: (f"{d}/a:{d}/b", "prog", f"ran {d}/b/prog\n", ""),
    "empty-entry-is-dot": lambda d: (f"/nonexistent::{d}/b", "prog", "", f'exec: "prog": {DOT}\n'),
    "leading-empty-entry": lambda d: (f":{d}/b", "prog", "", f'exec: "prog": {DOT}\n'),
    "leading-double-slash": lambda d: (f"/{d}/b", "prog", f"ran {d}/b/prog\n", ""),
    "dots-and-trailing-slash": lambda d: (f"{d}/a/../b/", "prog", f"ran {d}/b/prog\n", ""),
    "quoted-name": lambda d: (
        f"{d}/b",
        'no"such\tname\x01\u00a0\u00e9',
        "",
        f'exec: "no\\"such\\tname\\x01\\u00a0\u00e9": {NOT_FOUND}\n',
    ),
    "path-unset": lambda d: (None, "prog", "", f'exec: "prog": {NOT_FOUND}\n'),  # no default path, no "."
}


@pytest.mark.parametrize("case", LOOK.values(), ids=LOOK.keys())
def test_look_path_as_go(case, tmp_path):
    """Go's LookPath: directories skipped, "" is ".", Clean()ed paths, strconv.Quote'd names."""
    (tmp_path / "a" / "prog").mkdir(parents=True)  # a directory named like the command
    executable(tmp_path / "b" / "prog")
    executable(tmp_path / "prog")  # found only through "."
    path, name, stdout, stderr = case(tmp_path)
    env = {} if path is None else {"PATH": path}
    out, err, status = both(["--", name], env=env, cwd=tmp_path)
    assert (out.decode(), err.decode(), status) == (stdout, stderr, 1 if stderr else 0)


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("/tmp/a\x00b", 'exec: "/tmp/a\\x00b": stat /tmp/a\x00b: invalid argument'),
        ("a\x00b", f'exec: "a\\x00b": {NOT_FOUND}'),
    ],
)
def test_look_path_of_a_name_with_a_nul(name, want):
    """Go's stat of a path with a NUL fails with EINVAL before any syscall; LookPath returns that for a
    name with a slash and, searching PATH, goes on to the next entry. (Go 1.27 prints these two.)"""
    with pytest.raises(exec.Error) as e:
        exec.look_path(name)
    assert str(e.value) == want


def test_look_path_found_path_is_cleaned(tmp_path):
    """The path Go runs is Clean()ed: a leading // becomes /, as the exec error shows."""
    executable(tmp_path / "b" / "prog", text="not a program\n")
    out, err, status = both(["--", "prog"], env={"PATH": f"/{tmp_path}/b/./"})
    assert (out, err, status) == (b"", f"fork/exec {tmp_path}/b/prog: exec format error\n".encode(), 1)


# --- Setctty: Ctty must name one of the child's files ---------------------------------------------


@pytest.mark.parametrize("ctty", ["2", "3"])
def test_ctty_bound_is_the_number_of_files(ctty):
    """Go: "Setctty set but Ctty not valid in child" when Ctty >= len(Files); 2 is the last valid one."""
    out, err, status = both(["--setctty", "--ctty", ctty, "--", "true"])
    want = b"Setctty set but Ctty not valid in child" if ctty == "3" else b"inappropriate ioctl for device"
    assert (out, status) == (b"", 1) and err.startswith(b"fork/exec /usr/bin/true: " + want), err


def test_look_path_with_a_slash_checks_only_that_file(tmp_path):
    """Go: LookPath("dir/name") stats that file alone: missing, a directory, not executable."""
    executable(tmp_path / "ok")
    (tmp_path / "plain").write_text("")
    assert exec.look_path(f"{tmp_path}/ok") == f"{tmp_path}/ok"
    cases = {
        f"{tmp_path}/missing": f"stat {tmp_path}/missing: no such file or directory",
        str(tmp_path): "is a directory",
        f"{tmp_path}/plain": "permission denied",
    }
    for name, why in cases.items():
        with pytest.raises(exec.Error) as e:
            exec.look_path(name)
        assert str(e.value) == f'exec: "{name}": {why}'
    for name in ("", ".", ".."):
        with pytest.raises(exec.Error, match="executable file not found in"):
            exec.look_path(name)


def test_command_with_a_slash_is_not_looked_up(tmp_path):
    """Go: Command looks a bare name up in PATH at once; "./x" or "/x" is started as it is."""
    script = executable(tmp_path / "prog")
    cmd = exec.Command(str(script))
    assert (cmd.path, cmd.err) == (str(script), None)
    assert cmd.output() == f"ran {script}\n".encode()


def test_process_state_strings():
    """Go: os.ProcessState.String() for each kind of wait status."""
    stopped = signal.SIGSTOP << 8 | 0x7F
    assert exec.process_state_string(3 << 8) == "exit status 3"
    assert exec.process_state_string(signal.SIGKILL) == "signal: killed"
    assert exec.process_state_string(signal.SIGSEGV | 0x80) == "signal: segmentation fault (core dumped)"
    assert exec.process_state_string(stopped) == "stop signal: stopped (signal)"
    assert exec.process_state_string(0xFFFF) == "continued"


def test_cmd_misuse_errors():
    """Go's texts for a Cmd used the wrong way round."""
    with pytest.raises(GoError, match=r"^exec: no command$"):
        exec.Cmd("", []).start()
    with pytest.raises(GoError, match=r"^exec: not started$"):
        exec.Command("true").wait()
    cmd = exec.Command("true")
    cmd.stdout = 1
    with pytest.raises(GoError, match=r"^exec: Stdout already set$"):
        cmd.output()
    with pytest.raises(exec.Error, match="executable file not found"):
        exec.Command("no-such-command-nsport").start()


@pytest.mark.parametrize("lc_ctype", [None, "C.UTF-8", "C"], ids=["unset", "C.UTF-8", "C"])
def test_environment_as_started_not_as_cpython_coerced_it(lc_ctype):
    """CPython sets LC_CTYPE=C.UTF-8 in a C locale (PEP 538); Go passes the environment it got."""
    env = {"PATH": os.environ["PATH"], "B": "2"} | ({"LC_CTYPE": lc_ctype} if lc_ctype else {})
    out, err, status = both(["--", "cat", "/proc/self/environ"], env=env)
    assert (err, status) == (b"", 0)
    assert sorted(out.split(b"\0")[:-1]) == sorted(f"{k}={v}".encode() for k, v in env.items())


# --- the launcher's own state around a start ---------------------------------------------------


def subreaper_flag() -> int:
    import ctypes

    flag = ctypes.c_int(-1)
    ctypes.CDLL(None, use_errno=True).prctl(libc.PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    return flag.value


@pytest.fixture
def not_a_subreaper():
    """Clear this process's child-subreaper flag for the test: the suite runs as one (conftest), and a
    start that set the flag and left it set would go unseen from there. Put back afterwards."""
    libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 0)
    try:
        yield
    finally:
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)


@pytest.mark.parametrize("attr", CONFIGS.values(), ids=CONFIGS.keys())
def test_start_restores_the_launchers_mask_and_subreaper_flag(attr, strategy, not_a_subreaper):
    """Go blocks signals only across the clone; the port's subreaper flag is its own, set and put back:
    a launcher that was no subreaper is none after the start."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert subreaper_flag() == 0
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = attr
    cmd.run()
    assert (signal.pthread_sigmask(signal.SIG_BLOCK, []), subreaper_flag()) == (mask, 0)


@pytest.mark.parametrize("strategy", [exec_linux.SUBREAPER, exec_linux.RELAY], indirect=True)
@pytest.mark.parametrize("attr", CONFIGS.values(), ids=CONFIGS.keys())
def test_fork_failure_is_reported_and_undone(attr, strategy, monkeypatch, not_a_subreaper):
    """fork(2) failing (EAGAIN: out of processes) is Go's "fork/exec PATH: resource temporarily
    unavailable", with the launcher's mask, subreaper flag and descriptors as before."""

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    mask, fds = signal.pthread_sigmask(signal.SIG_BLOCK, []), open_fds()
    assert subreaper_flag() == 0
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = attr
    monkeypatch.setattr(os, "fork", no_fork)
    with pytest.raises(PathError) as e:
        cmd.start()
    monkeypatch.undo()
    assert str(e.value) == "fork/exec /usr/bin/true: resource temporarily unavailable"
    assert (signal.pthread_sigmask(signal.SIG_BLOCK, []), subreaper_flag(), open_fds()) == (mask, 0, fds)


def test_output_written_before_a_start_comes_first(tmp_path):
    """Go's os.Stdout has no buffer: what the launcher printed is out before the child runs. The port
    flushes Python's buffers before the fork (and the child never flushes the copy it got)."""
    script = (
        "from port import exec\n"
        "print('launcher')\n"
        "cmd = exec.Command('echo', 'child')\n"
        "cmd.stdout = 1\n"
        "cmd.run()\n"
        "print('after')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout on a pipe: block-buffered
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, timeout=20).stdout
    assert out == b"launcher\nchild\nafter\n"


def test_nul_in_an_argument_is_einval():
    """Go: BytePtrFromString refuses a NUL: "fork/exec PATH: invalid argument", before any fork."""
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/echo: invalid argument$"):
        exec.Command("echo", "a\0b").run()


def test_quoting_at_the_escape_boundaries():
    """strconv.Quote's edges: \\x7f is \\x, U+0080 and U+FFFF are \\u, beyond is \\U, and bytes that are
    not UTF-8 (0x80 and 0xff, the ends of the range) are \\x."""
    name = b"a\x7f\xc2\x80\xef\xbf\xbf\xf3\xa0\x80\x81\x80\xffz"
    out, err, status = both([b"--", name])
    assert (out, status) == (b"", 1)
    assert err == b'exec: "a\\x7f\\u0080\\uffff\\U000e0001\\x80\\xffz": executable file not found in $PATH\n'


def test_failed_stdout_write_is_ignored_like_gos_println():
    """fmt.Println to a full device fails with ENOSPC, which Go drops: the run goes on and ends as usual."""
    full = ("sh", "-c", 'exec "$@" >/dev/full', "sh")
    go = run_piped(GO, b"exit 3\n", prefix=full)
    py = run_piped(PY, b"exit 3\n", prefix=full)
    assert_same(go, py)
    assert (go.stdout, LOG_TIME.sub(b"", go.stderr), go.status) == (b"", b"exit status 3\n", 1)


@pytest.mark.root
def test_look_path_checks_the_effective_ids(tmp_path):
    """Go's LookPath asks eaccess (the effective ids): with only the real uid changed to nobody, a command
    only root may run is still found."""
    executable(tmp_path / "bin" / "prog").chmod(0o700)
    tmp_path.chmod(0o755)
    real_nobody = ("setpriv", "--ruid", "65534", "--rgid", "65534", "--clear-groups")
    env = {"PATH": f"{tmp_path}/bin:{os.environ['PATH']}"}
    out, err, status = both(["--", "prog"], env=env, prefix=real_nobody)
    assert (out, err, status) == (f"ran {tmp_path}/bin/prog\n".encode(), b"", 0)


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


@pytest.mark.parametrize("noctty", [False, True], ids=["", "noctty"])
def test_noctty_detaches_stdin_from_the_controlling_tty(noctty):
    """Go: Noctty is ioctl(0, TIOCNOTTY): the terminal on fd 0 (here the session's controlling tty,
    while stdout is a pipe) stops being the child's controlling tty."""
    master, slave = os.openpty()
    try:
        args = ["--noctty"] * noctty + ["--", "sh", "-c", "echo ok; cut -d' ' -f7 /proc/self/stat"]
        out, err, status = both(args, stdin=slave, prefix=("setsid", "--ctty"))
    finally:
        os.close(master)
        os.close(slave)
    assert (err, status) == (b"", 0)
    lines = out.decode().split()
    assert lines[0] == "ok" and (lines[1] == "0") == noctty  # tty_nr 0: no controlling tty


def test_cgroup_fd_that_is_not_cgroup2_is_ebadf(strategy, tmp_path):
    """Go asks clone3(CLONE_INTO_CGROUP), which refuses anything but a cgroup2 directory with EBADF."""
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        cmd = exec.Command("true")
        cmd.strategy = strategy
        cmd.sys_proc_attr = SysProcAttr(use_cgroup_fd=True, cgroup_fd=fd)
        with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: bad file descriptor$"):
            cmd.run()
    finally:
        os.close(fd)


def test_a_child_step_failing_without_an_errno_is_einval():
    """setgroups(2) with more than NGROUPS_MAX groups is EINVAL from the kernel under Go; CPython refuses it
    first with a ValueError, which the child must still report as EINVAL."""
    cmd = exec.Command("true")
    cmd.sys_proc_attr = SysProcAttr(credential=Credential(uid=0, gid=0, groups=[0] * 65537))
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: invalid argument$"):
        cmd.run()


def test_maps_the_kernel_refuses_fail_the_start(strategy):
    """Go's child waits for the launcher's verdict on the maps (step 2) and fails with its errno:
    overlapping uid_map lines are EINVAL."""
    cmd = exec.Command("true")
    cmd.strategy = strategy
    overlapping = [SysProcIDMap(0, os.geteuid(), 1), SysProcIDMap(0, os.geteuid(), 1)]
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID, uid_mappings=overlapping)
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: invalid argument$"):
        cmd.run()
