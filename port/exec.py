"""Run commands the way Go's os/exec does: Command, look_path and Go's errors.

    cmd = exec.Command("sh", "-c", "exit 3")
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUTS)
    cmd.run()   # raises ExitError: "exit status 3"

Errors are GoError subclasses whose str() is the text Go prints:
`exit status N`, `signal: killed`, `fork/exec PATH: <errno text>`,
`exec: "x": executable file not found in $PATH`.
"""

import os
import posixpath

from port.errors import Errno, GoError, PathError, signal_text
from port.exec_linux import ProcAttr, fork_exec
from port.sysprocattr import SysProcAttr

ERR_NOT_FOUND = "executable file not found in $PATH"
ERR_DOT = "cannot run executable found relative to current directory"


class Error(GoError):  # Go: exec.Error, a failed look_path
    def __init__(self, name: str, err: object):
        super().__init__(name, err)
        self.name, self.err = name, err

    def __str__(self) -> str:
        return f"exec: {_quote(self.name)}: {self.err}"


class ExitError(GoError):  # Go: exec.ExitError, its Error() is ProcessState.String()
    def __init__(self, status: int, stderr: bytes = b""):
        super().__init__(status)
        self.status, self.stderr = status, stderr

    def exit_code(self) -> int:
        """Go: ExitCode(): the exit status, or -1 after a signal."""
        return os.WEXITSTATUS(self.status) if os.WIFEXITED(self.status) else -1

    def __str__(self) -> str:
        return process_state_string(self.status)


def process_state_string(status: int) -> str:
    """Go: os.ProcessState.String() for a wait status."""
    if os.WIFEXITED(status):
        text = f"exit status {os.WEXITSTATUS(status)}"
    elif os.WIFSIGNALED(status):
        text = f"signal: {signal_text(os.WTERMSIG(status))}"
    elif os.WIFSTOPPED(status):
        text = f"stop signal: {signal_text(os.WSTOPSIG(status))}"
    else:
        text = "continued"
    return text + (" (core dumped)" if os.WCOREDUMP(status) else "")


def _quote(s: str) -> str:
    """Go: strconv.Quote, for the printable names error messages carry."""
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in out)
    return f'"{out}"'


def _clean(path: str) -> str:
    """Go: filepath.Clean (posixpath.normpath keeps a leading //, Go does not)."""
    path = posixpath.normpath(path)
    return path[1:] if path.startswith("//") else path


def _find_executable(file: str) -> Exception | None:
    """Go: os/exec findExecutable: stat, not a directory, eaccess(X_OK)."""
    try:
        st = os.stat(file)
    except OSError as e:
        return PathError("stat", file, Errno(e.errno))
    if os.path.stat.S_ISDIR(st.st_mode):
        return Errno(21)  # EISDIR
    if not os.access(file, os.X_OK, effective_ids=True):
        return Errno(13)  # EACCES
    return None


def look_path(file: str) -> str:
    """Go: exec.LookPath. Search $PATH with Go's rules, raise Error if not found.

    Unlike shutil.which: no default path when PATH is unset, an empty element
    means ".", and a relative hit is an error (Go's ErrDot) unless
    GODEBUG=execerrdot=0.
    """
    if file in ("", ".", ".."):
        raise Error(file, ERR_NOT_FOUND)
    if "/" in file:
        if (err := _find_executable(file)) is not None:
            raise Error(file, err)
        return file
    path_env = os.environ.get("PATH", "")
    for d in path_env.split(":") if path_env else []:
        path = _clean(posixpath.join(d or ".", file))
        if _find_executable(path) is None:
            if not path.startswith("/") and "execerrdot=0" not in os.environ.get("GODEBUG", ""):
                raise _DotError(file, ERR_DOT, path)
            return path
    raise Error(file, ERR_NOT_FOUND)


class _DotError(Error):
    """Go returns the path found *and* ErrDot; Command keeps the path."""

    def __init__(self, name: str, err: object, path: str):
        super().__init__(name, err)
        self.path = path


def environ() -> list[bytes]:
    """Go: syscall.Environ(): this process's environment as "KEY=value" entries.

    CPython coerces a C locale at start-up (PEP 538) by setting
    LC_CTYPE=C.UTF-8 in its own environment; a Go program has no such step,
    so the value the process started with (from /proc/self/environ) is put back.
    """
    env = dict(os.environb)
    if env.get(b"LC_CTYPE") == b"C.UTF-8":
        try:
            with open("/proc/self/environ", "rb") as f:
                start = dict(e.partition(b"=")[::2] for e in f.read().split(b"\0") if e)
        except OSError:
            start = {b"LC_CTYPE": b"C.UTF-8"}
        if b"LC_CTYPE" in start:
            env[b"LC_CTYPE"] = start[b"LC_CTYPE"]
        else:
            del env[b"LC_CTYPE"]
    return [k + b"=" + v for k, v in env.items()]


def _dedup_env(env: list[bytes]) -> list[bytes]:
    """Go: dedupEnv: the last value of a key wins; a NUL is an error."""
    if any(b"\0" in kv for kv in env):
        raise GoError("exec: environment variable contains NUL")
    last = {kv.partition(b"=")[0]: i for i, kv in enumerate(env)}
    return [kv for i, kv in enumerate(env) if last[kv.partition(b"=")[0]] == i]


class Process:  # Go: os.Process
    def __init__(self, pid: int):
        self.pid = pid

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def kill(self) -> None:
        self.signal(9)


class Cmd:  # Go: exec.Cmd
    """A command to run. Streams are None (/dev/null), an fd, or a file object."""

    def __init__(self, path: str, args: list[str]):
        self.path = path
        self.args = args
        self.env: list[str] | None = None
        self.dir = ""
        self.stdin = self.stdout = self.stderr = None
        self.extra_files: list = []
        self.sys_proc_attr: SysProcAttr | None = None
        self.process: Process | None = None
        self.process_state: int | None = None  # the wait status
        self.err: Exception | None = None
        self._close_after_start: list[int] = []

    def _child_fd(self, stream, mode: int) -> int:
        if stream is None:
            fd = os.open(os.devnull, mode)
            self._close_after_start.append(fd)
            return fd
        return stream if isinstance(stream, int) else stream.fileno()

    def environ(self) -> list[bytes]:
        """Go: Cmd.Environ: Env, or this process's environment plus PWD for Dir."""
        if self.env is not None:
            return [os.fsencode(e) for e in self.env]
        env = environ()
        if self.dir:
            env.append(b"PWD=" + os.fsencode(os.path.abspath(self.dir)))
        return env

    def start(self) -> None:
        """Go: Cmd.Start. Raise Error, PathError("fork/exec", ...) or GoError."""
        if self.process is not None:
            raise GoError("exec: already started")
        if self.err is not None:
            raise self.err
        if not self.path:
            raise GoError("exec: no command")
        try:
            files = [
                self._child_fd(self.stdin, os.O_RDONLY),
                self._child_fd(self.stdout, os.O_WRONLY),
                self._child_fd(self.stderr, os.O_WRONLY),
                *(self._child_fd(f, os.O_RDWR) for f in self.extra_files),
            ]
            attr = ProcAttr(self.dir, _dedup_env(self.environ()), files, self.sys_proc_attr)
            try:
                pid = fork_exec(self.path, self.args, attr)
            except GoError as e:
                raise PathError("fork/exec", self.path, e) from None
        finally:
            for fd in self._close_after_start:
                os.close(fd)
            self._close_after_start.clear()
        self.process = Process(pid)

    def wait(self) -> None:
        """Go: Cmd.Wait. Raise ExitError unless the command exited 0."""
        if self.process is None:
            raise GoError("exec: not started")
        if self.process_state is not None:
            raise GoError("exec: Wait was already called")
        _, self.process_state = os.waitpid(self.process.pid, 0)
        if not (os.WIFEXITED(self.process_state) and os.WEXITSTATUS(self.process_state) == 0):
            raise ExitError(self.process_state)

    def run(self) -> None:
        """Go: Cmd.Run: start, then wait."""
        self.start()
        self.wait()

    def output(self) -> bytes:
        """Go: Cmd.Output: run with stdout captured and return it."""
        if self.stdout is not None:
            raise GoError("exec: Stdout already set")
        r, w = os.pipe()
        self.stdout = w
        try:
            self.start()
        finally:
            os.close(w)
        with os.fdopen(r, "rb") as f:
            out = f.read()
        self.wait()
        return out


def Command(name: str, *args: str) -> Cmd:  # noqa: N802 - Go's name, kept greppable
    """Go: exec.Command. A bare name is looked up in $PATH now, as in Go."""
    cmd = Cmd(name, [name, *args])
    if posixpath.basename(name) == name:
        try:
            cmd.path = look_path(name)
        except _DotError as e:
            cmd.path, cmd.err = e.path, e
        except Error as e:
            cmd.err = e
    return cmd
