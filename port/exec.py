"""Run commands the way Go's os/exec does: Command, look_path, Cmd and Go's errors.

    cmd = exec.Command("sh", "-c", "exit 3")
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUTS)
    cmd.run()   # raises ExitError: "exit status 3"

Errors are GoError subclasses whose str() is the text Go prints:
`exit status N`, `signal: killed`, `fork/exec PATH: <errno text>`,
`exec: "x": executable file not found in $PATH`. Where Go returns a value
and an error (Output, CombinedOutput), the port returns the value or raises
the error, with the partial value as its `output` attribute.

Streams (stdin, stdout, stderr, extra_files) are None (/dev/null; in
extra_files: closed), an fd, an object with a working fileno() (Go's
*os.File; a closed file object is Go's closed *os.File, fd -1: closed in the
child), or any other reader/writer, which a thread copies through a pipe
(Go's goroutines; a write returning a count short of the data is Go's
"short write"). The pipe ends StdinPipe, StdoutPipe and StderrPipe return
are File, Go's *os.File with its errors ("write |1: broken pipe",
"close |0: file already closed"). Only the plain cases import nothing beyond the stdlib's
os and posixpath, so the notes program's launch path stays light.

One Cmd field is the port's own: `strategy`, how the child is started
(port/exec_linux.py; RAW_CLONE unless set), which Go has no need for; and
after Start, `strategy_taken`, the one it took (SUBREAPER in RAW_CLONE's
stead when this process has other threads).
"""

import _signal as signal  # the C module, as port.runtime: signal.py costs ~3 ms a start
import io  # imported by the interpreter's own start-up: costs nothing
import os
import posixpath

from port import runtime
from port.errors import Errno, GoError, PathError, signal_text
from port.exec_linux import RAW_CLONE, ProcAttr, fork_exec
from port.fmt import quote
from port.sysprocattr import SysProcAttr

ERR_NOT_FOUND = "executable file not found in $PATH"
ERR_DOT = "cannot run executable found relative to current directory"
ERR_WAIT_DELAY = "exec: WaitDelay expired before I/O complete"
ERR_PROCESS_DONE = "os: process already finished"
ERR_CLOSED = "file already closed"  # Go: os.ErrClosed


class Error(GoError):  # Go: exec.Error, a failed look_path
    def __init__(self, name: str, err: object):
        super().__init__(name, err)
        self.name, self.err = name, err

    def __str__(self) -> str:
        return f"exec: {quote(self.name)}: {self.err}"


class WrappedError(GoError):  # Go: exec.wrappedError
    def __init__(self, prefix: str, err: Exception):
        super().__init__(prefix, err)
        self.prefix, self.err = prefix, err

    def __str__(self) -> str:
        return f"{self.prefix}: {self.err}"


class ProcessDoneError(GoError):  # Go: os.ErrProcessDone
    def __str__(self) -> str:
        return ERR_PROCESS_DONE


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
    # Go's CoreDump() holds only for a signalled status (0xffff, continued, has the bit too).
    return text + (" (core dumped)" if os.WIFSIGNALED(status) and os.WCOREDUMP(status) else "")


class ProcessState:  # Go: os.ProcessState
    def __init__(self, pid: int, status: int):
        self._pid, self.status = pid, status

    def pid(self) -> int:
        return self._pid

    def sys(self) -> int:
        """Go: Sys().(syscall.WaitStatus): the raw wait status."""
        return self.status

    def exited(self) -> bool:
        return os.WIFEXITED(self.status)

    def success(self) -> bool:
        return os.WIFEXITED(self.status) and os.WEXITSTATUS(self.status) == 0

    def exit_code(self) -> int:
        """Go: ExitCode(): the exit status, or -1 after a signal."""
        return os.WEXITSTATUS(self.status) if os.WIFEXITED(self.status) else -1

    def string(self) -> str:
        return process_state_string(self.status)

    __str__ = string


def exit_code(state: "ProcessState | None") -> int:
    """Go: (*ProcessState).ExitCode, which is -1 for a nil state (a command not yet waited for)."""
    return -1 if state is None else state.exit_code()


class ExitError(GoError):  # Go: exec.ExitError{*os.ProcessState, Stderr}
    def __init__(self, state: "ProcessState", stderr: bytes = b""):
        super().__init__(state.status)
        self.process_state, self.stderr = state, stderr
        self.status = state.status

    def exit_code(self) -> int:
        return self.process_state.exit_code()

    def __str__(self) -> str:
        return self.process_state.string()


def _clean(path: str) -> str:
    """Go: filepath.Clean (posixpath.normpath keeps a leading //, Go does not)."""
    path = posixpath.normpath(path)
    return path[1:] if path.startswith("//") else path


def _base(path: str) -> str:
    """Go: filepath.Base: "." for "", trailing slashes dropped, "/" for only slashes."""
    if path == "":
        return "."
    path = path.rstrip("/")
    return posixpath.basename(path) if path else "/"


def _stat_same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def getwd() -> str:
    """Go: os.Getwd: $PWD when it names ".", else getcwd(2), as "getwd: ..." on error."""
    pwd = os.environ.get("PWD", "")
    if pwd.startswith("/"):
        try:
            dot = os.stat(".")
        except OSError as e:
            raise PathError("stat", ".", Errno(e.errno)) from None
        try:
            if _stat_same(dot, os.stat(pwd)):
                return pwd
        except OSError:
            pass
    try:
        return os.getcwd()
    except OSError as e:
        raise WrappedSyscallError("getwd", Errno(e.errno)) from None


class WrappedSyscallError(GoError):  # Go: os.SyscallError
    def __init__(self, syscall: str, err: Exception):
        super().__init__(syscall, err)
        self.syscall, self.err = syscall, err

    def __str__(self) -> str:
        return f"{self.syscall}: {self.err}"


def abs_path(path: str) -> str:
    """Go: filepath.Abs."""
    if path.startswith("/"):
        return _clean(path)
    return _clean(posixpath.join(getwd(), path))


def _find_executable(file: str) -> Exception | None:
    """Go: os/exec findExecutable: stat, not a directory, eaccess(X_OK)."""
    try:
        st = os.stat(file)
    except OSError as e:
        return PathError("stat", file, Errno(e.errno))
    except ValueError:  # an embedded NUL: Go's stat says EINVAL
        return PathError("stat", file, Errno(22))
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
            if not path.startswith("/") and runtime.godebug("execerrdot") != "0":
                raise DotError(file, ERR_DOT, path)
            return path
    raise Error(file, ERR_NOT_FOUND)


class DotError(Error):
    """Go: &Error{file, ErrDot}, returned together with the path found; Command keeps the path."""

    def __init__(self, name: str, err: object, path: str):
        super().__init__(name, err)
        self.path = path


def environ() -> list[bytes]:
    """Go: syscall.Environ(): the environment as the list execve(2) gave it, with changes.

    Go keeps the list it started with: entries without "=" stay, and of
    duplicate keys the first one (copyenv). The start is read back from
    /proc/self/environ; what the program changed since through os.environ is
    applied to it. CPython coerces a C locale at start-up (PEP 538) by
    setting LC_CTYPE=C.UTF-8 in its own environment; a Go program has no
    such step, so that change is not one of the program's.
    """
    current = os.environb
    try:
        with open("/proc/self/environ", "rb") as f:
            start = f.read().split(b"\0")
    except OSError:
        return [k + b"=" + v for k, v in current.items()]
    # Started with LC_CTYPE=C.UTF-8 or coerced to it, the program's LC_CTYPE is the one it started with.
    coerced = current.get(b"LC_CTYPE") == b"C.UTF-8"
    out, seen = [], set()
    for e in start:
        k, eq, v = e.partition(b"=")
        if not eq:
            if e:
                out.append(e)
            continue
        if k in seen:
            continue  # Go: copyenv clears a later duplicate
        seen.add(k)
        if k == b"LC_CTYPE" and coerced:
            out.append(e)
        elif k in current:
            out.append(e if current[k] == v else k + b"=" + current[k])
    out += [k + b"=" + v for k, v in current.items() if k not in seen and not (k == b"LC_CTYPE" and coerced)]
    return out


def dedup_env(env: list[bytes]) -> tuple[list[bytes], GoError | None]:
    """Go: dedupEnv on Linux: case-sensitive keys, NUL not allowed."""
    return dedup_env_case(False, False, env)


def dedup_env_case(no_case: bool, nul_ok: bool, env: list) -> tuple[list, GoError | None]:
    """Go: dedupEnvCase: the last value of a key wins; an entry with a NUL is dropped, with an error.

    The key ends at the first "=", except that a leading "=" belongs to the
    key (so "=C:=x" has the key "=C:"); an entry without "=" is kept as it is.
    Works on str or bytes entries alike.
    """
    out, saw, err = [], set(), None
    for kv in reversed(env):
        eq, nul = ("=", "\0") if isinstance(kv, str) else (b"=", b"\0")
        if not nul_ok and nul in kv:
            err = GoError("exec: environment variable contains NUL")
            continue
        i = kv.find(eq)
        if i == 0:
            i = kv.find(eq, 1)
            i = 0 if i < 0 else i
        if i < 0:
            if kv:
                out.append(kv)
            continue
        k = kv[:i].lower() if no_case else kv[:i]
        if k in saw:
            continue
        saw.add(k)
        out.append(kv)
    out.reverse()
    return out, err


def wraps(err: BaseException | None, kind: type) -> bool:
    """Go: errors.Is for the port's errors: err or anything it wraps (.err, __cause__) is a kind."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return True
        seen.add(id(err))
        err = getattr(err, "err", None) if isinstance(getattr(err, "err", None), BaseException) else err.__cause__
    return False


class Process:  # Go: os.Process, with a pidfd as Go (1.23+) uses one
    def __init__(self, pid: int):
        self.pid = pid
        self._done = False
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError:
            self._pidfd = -1
        self._waits_on_pidfd = self._pidfd >= 0

    def signal(self, sig: int) -> None:
        """Go: Process.Signal; ProcessDoneError once it has exited."""
        if self._done:
            raise ProcessDoneError()
        try:
            if self._pidfd >= 0:
                signal.pidfd_send_signal(self._pidfd, sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            raise ProcessDoneError() from None
        except OSError as e:
            raise Errno(e.errno) from None

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def wait(self) -> ProcessState:
        """Go: Process.Wait."""
        if self._done:
            # Go: a Process with a pidfd answers a second Wait itself, as the wait syscall would;
            # without one it calls waitid(2) again, which finds no child.
            raise WrappedSyscallError("wait" if self._waits_on_pidfd else "waitid", Errno(10))  # ECHILD
        try:
            if self._pidfd >= 0:
                runtime.wait_for_exit(self._pidfd)
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError as e:  # Go on Linux waits with waitid(2), on the pidfd or the pid
            raise WrappedSyscallError("waitid", Errno(e.errno)) from None
        self._done = True
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
        return ProcessState(self.pid, status)


class _Saver:
    """Go: prefixSuffixSaver: the first and last n bytes of what is written."""

    def __init__(self, n: int = 32 << 10):
        self.n, self.prefix, self.suffix, self.skipped = n, b"", b"", 0

    def write(self, data: bytes) -> int:
        room = self.n - len(self.prefix)
        self.prefix += data[:room]
        rest = data[max(room, 0) :]
        self.suffix += rest
        if len(self.suffix) > self.n:
            self.skipped += len(self.suffix) - self.n
            self.suffix = self.suffix[-self.n :]
        return len(data)

    def bytes(self) -> bytes:
        if not self.skipped:
            return self.prefix + self.suffix
        return self.prefix + b"\n... omitting %d bytes ...\n" % self.skipped + self.suffix


class _Buffer:
    """Go: bytes.Buffer, as a writer: written by the copying threads."""

    def __init__(self):
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)


_FILE_TYPES = (io.FileIO, io.BufferedReader, io.BufferedWriter, io.BufferedRandom, io.TextIOWrapper)


def _fileno(stream) -> int | None:
    """The fd of an int or of an object whose fileno() works (Go: an *os.File), else None.

    A closed file object (a closed *os.File in Go) is -1: Go's Fd() of a closed
    File is -1, so the child's descriptor is closed and the command runs.
    """
    if isinstance(stream, int):
        return stream
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        if isinstance(stream, (*_FILE_TYPES, File)) and stream.closed:
            return -1
        return None


class Cmd:  # Go: exec.Cmd
    """A command to run, in Go's shape (fields in snake_case)."""

    def __init__(self, path: str, args: list[str] | None = None):
        self.path = path
        self.args = list(args or [])
        self.env: list[str | bytes] | None = None
        self.dir = ""
        self.stdin = self.stdout = self.stderr = None
        self.extra_files: list = []
        self.sys_proc_attr: SysProcAttr | None = None
        self.strategy = RAW_CLONE  # port-only, not in Go: ProcAttr.strategy, how the child is started
        self.strategy_taken = ""  # port-only: the strategy Start took (SUBREAPER when RAW_CLONE cannot be)
        self.process: Process | None = None
        self.process_state: ProcessState | None = None
        self.err: Exception | None = None
        self.cancel = None  # Go: Cancel func() error; CommandContext sets it
        self.wait_delay = 0.0  # Go: WaitDelay, in seconds
        self._ctx = None
        self._start_called = False
        self._child_io: list[int] = []  # closed after start (Go: childIOFiles)
        self._parent_io: list = []  # closed after wait (Go: parentIOPipes)
        self._goroutines: list = []
        self._goroutine_err = None  # a queue with the first goroutine error, once all are done
        self._ctx_result = None
        self._copies_interrupted = False
        self._interrupt_r = self._interrupt_w = -1  # wakes the copying threads (see _read_interruptibly)

    # -- Go: String, Environ, argv

    def string(self) -> str:
        """Go: Cmd.String: the resolved path and the arguments."""
        if self.err is not None:
            return " ".join(self.args)
        return " ".join([self.path, *self.args[1:]])

    __str__ = string

    def _argv(self) -> list[str]:
        return self.args if self.args else [self.path]

    def _environ(self) -> tuple[list[bytes], Exception | None]:
        err = None
        if self.env is None:
            env = environ()
            if self.dir:
                try:
                    env.append(b"PWD=" + os.fsencode(abs_path(self.dir)))
                except GoError as e:
                    err = e
        else:
            env = [os.fsencode(e) for e in self.env]
        env, dedup_err = dedup_env(env)
        return env, err or dedup_err

    def environ(self) -> list[bytes]:
        """Go: Cmd.Environ: the environment the command would run with."""
        return self._environ()[0]

    # -- the child's stdin, stdout, stderr

    def _dev_null(self, mode: int) -> int:
        fd = os.open(os.devnull, mode)
        self._child_io.append(fd)
        return fd

    def _child_stdin(self) -> int:
        if self.stdin is None:
            return self._dev_null(os.O_RDONLY)
        if (fd := _fileno(self.stdin)) is not None:
            return fd
        r, w = os.pipe()
        self._child_io.append(r)
        self._parent_io.append(w)
        reader = self.stdin

        def copy_stdin():
            try:
                while chunk := reader.read(32 << 10):
                    _write_interruptibly(w, chunk if isinstance(chunk, bytes) else os.fsencode(chunk), self)
            except BrokenPipeError:
                pass  # Go: skipStdinCopyError: the command exited without reading all of it
            except Exception as e:  # noqa: BLE001 - Go returns the reader's or the write's error
                return e
            finally:
                self._close_parent(w)
            return None

        self._goroutines.append(copy_stdin)
        return r

    def _child_writer(self, stream) -> int:
        if stream is None:
            return self._dev_null(os.O_WRONLY)
        if (fd := _fileno(stream)) is not None:
            return fd
        r, w = os.pipe()
        self._child_io.append(w)
        self._parent_io.append(r)
        self._goroutines.append(lambda: self._copy_out(r, stream))
        return w

    def _copy_out(self, r: int, writer) -> Exception | None:
        """Go: io.Copy(w, pr) in a goroutine; the read end may be closed under it (WaitDelay)."""
        try:
            while chunk := _read_interruptibly(r, self):
                n = writer.write(chunk)
                # Go's io.Copy checks the count: a writer returning None (a Python writer that
                # reports nothing) is taken as having written it all.
                if n is not None and not 0 <= n <= len(chunk):
                    return GoError("invalid write result")  # Go: io.errInvalidWrite
                if n is not None and n != len(chunk):
                    return GoError("short write")  # Go: io.ErrShortWrite
        except Exception as e:  # noqa: BLE001 - Go: the writer's error ends the copy and is returned
            return e
        finally:
            self._close_parent(r)
        return None

    def _close_parent(self, fd: int) -> None:
        if fd in self._parent_io:
            self._parent_io.remove(fd)
            try:
                os.close(fd)
            except OSError:
                pass

    def _close_parent_io(self) -> None:
        for f in list(self._parent_io):
            if isinstance(f, int):
                self._close_parent(f)
            else:
                self._parent_io.remove(f)
                if not f.closed:  # Go: closeDescriptors ignores Close's error
                    f.close()

    # -- Go: Start, Wait, Run

    def start(self) -> None:
        """Go: Cmd.Start. Raise Error, PathError("fork/exec", ...) or GoError."""
        if self._start_called:
            raise GoError("exec: already started")
        self._start_called = True
        started = False
        try:
            if not self.path and self.err is None:
                self.err = GoError("exec: no command")
            if self.err is not None:
                raise self.err
            if self.cancel is not None and self._ctx is None:
                raise GoError("exec: command with a non-nil Cancel was not created with CommandContext")
            if self._ctx is not None and self._ctx.done():
                raise self._ctx.err()
            files = [self._child_stdin(), self._child_writer(self.stdout)]
            if self.stderr is not None and self.stderr is self.stdout:
                files.append(files[1])
            else:
                files.append(self._child_writer(self.stderr))
            files += [-1 if f is None else _fileno(f) for f in self.extra_files]
            env, err = self._environ()
            if err is not None:
                raise err
            if self.sys_proc_attr is None and self.dir:
                try:  # Go: os.StartProcess checks Dir itself when there is no SysProcAttr
                    os.stat(self.dir)
                except OSError as e:
                    raise PathError("chdir", self.dir, Errno(e.errno)) from None
                except ValueError:  # an embedded NUL: Go's stat says EINVAL
                    raise PathError("chdir", self.dir, Errno(22)) from None
            attr = ProcAttr(self.dir, env, files, self.sys_proc_attr, self.strategy)
            try:
                pid = fork_exec(self.path, self._argv(), attr)
            except GoError as e:
                raise PathError("fork/exec", self.path, e) from None
            finally:
                self.strategy_taken = attr.strategy_taken
            self.process = Process(pid)
            started = True
        finally:
            for fd in self._child_io:
                os.close(fd)
            self._child_io.clear()
            if not started:
                self._goroutines.clear()
                self._close_parent_io()
        if self._goroutines:
            self._start_goroutines()
        if (self.cancel is not None or self.wait_delay) and self._ctx is not None:
            self._start_watch_ctx()

    def _start_goroutines(self) -> None:
        import queue
        import threading

        fns, self._goroutines = self._goroutines, []
        self._goroutine_err = done = queue.Queue(1)
        self._interrupt_r, self._interrupt_w = os.pipe()
        results: list = []
        lock = threading.Lock()

        def run(fn):
            err = fn()
            with lock:
                results.append(err)
                if len(results) == len(fns):
                    done.put(next((e for e in results if e is not None), None))

        for fn in fns:
            threading.Thread(target=run, args=(fn,), daemon=True).start()

    def _start_watch_ctx(self) -> None:
        import queue
        import threading

        self._ctx_result = queue.Queue(1)  # Go: resultc
        self._waited = threading.Event()  # the process has been waited for
        self._wake = threading.Event()  # that, or the context is done
        self._ctx.notify(self._wake)
        threading.Thread(target=self._watch_ctx, daemon=True).start()

    def _watch_ctx(self) -> None:
        """Go: Cmd.watchCtx: on cancellation call Cancel, then after WaitDelay kill."""
        self._wake.wait()
        if self._waited.is_set() and not self._ctx.done():
            self._ctx_result.put((None, None))
            return
        err = None
        if self.cancel is not None:
            try:
                interrupt_err = self.cancel()  # Go's Cancel returns an error; here it may raise it too
            except Exception as e:  # noqa: BLE001 - whatever Cancel fails with
                interrupt_err = e
            if not isinstance(interrupt_err, BaseException):
                err = self._ctx.err()
            elif not wraps(interrupt_err, ProcessDoneError):
                err = WrappedError("exec: canceling Cmd", interrupt_err)
        if not self.wait_delay:
            self._ctx_result.put((err, None))
            return
        import time

        deadline = time.monotonic() + self.wait_delay
        if self._waited.wait(self.wait_delay):
            self._ctx_result.put((err, deadline))
            return
        killed = False
        try:
            self.process.kill()
            killed = True
        except ProcessDoneError:
            pass
        except GoError as e:
            err = WrappedError("exec: killing Cmd", e)
        if self._goroutine_err is not None:
            import queue

            try:
                goroutine_err = self._goroutine_err.get_nowait()
                if err is None and not killed:
                    err = goroutine_err
            except queue.Empty:
                self._interrupt_copies()
                self._goroutine_err.get()
                if err is None:
                    err = GoError(ERR_WAIT_DELAY)
            self._goroutine_err = None
        self._ctx_result.put((err, None))

    def _interrupt_copies(self) -> None:
        """Go closes the parent's pipe ends; a thread blocked in read(2) must be woken too."""
        self._copies_interrupted = True
        os.write(self._interrupt_w, b"x")

    def wait(self) -> None:
        """Go: Cmd.Wait. Raise ExitError unless the command exited 0."""
        if self.process is None:
            raise GoError("exec: not started")
        if self.process_state is not None:
            raise GoError("exec: Wait was already called")
        err, state = None, None
        try:
            state = self.process.wait()
        except GoError as e:  # Go: Wait still waits for the copies and closes the pipes, then returns it
            err = e
        if err is None and not state.success():
            err = ExitError(state)
        self.process_state = state
        deadline = None
        if self._ctx_result is not None:
            self._waited.set()
            self._wake.set()
            watch_err, deadline = self._ctx_result.get()
            if err is None and watch_err is not None:
                err = watch_err
        goroutine_err = self._await_goroutines(deadline)
        if err is None:
            err = goroutine_err
        self._close_parent_io()
        for fd in (self._interrupt_r, self._interrupt_w):
            if fd >= 0:
                os.close(fd)
        self._interrupt_r = self._interrupt_w = -1
        if err is not None:
            raise err

    def _await_goroutines(self, deadline: float | None) -> Exception | None:
        """Go: Cmd.awaitGoroutines: wait for the copies, at most WaitDelay when set."""
        q, self._goroutine_err = self._goroutine_err, None
        if q is None:
            return None
        import queue
        import time

        if deadline is None:
            if not self.wait_delay:
                return q.get()
            try:
                return q.get_nowait()
            except queue.Empty:
                deadline = time.monotonic() + self.wait_delay
        try:
            return q.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self._interrupt_copies()
            q.get()
            return GoError(ERR_WAIT_DELAY)

    def run(self) -> None:
        """Go: Cmd.Run: start, then wait."""
        self.start()
        self.wait()

    # -- Go: Output, CombinedOutput, the pipes

    def output(self) -> bytes:
        """Go: Cmd.Output: run with stdout captured; an ExitError carries the stderr."""
        if self.stdout is not None:
            raise GoError("exec: Stdout already set")
        out = _Buffer()
        self.stdout = out
        capture = self.stderr is None
        if capture:
            self.stderr = _Saver()
        try:
            self.run()
        except GoError as e:
            if capture and isinstance(e, ExitError):
                e.stderr = self.stderr.bytes()
            e.output = bytes(out.data)
            raise
        return bytes(out.data)

    def combined_output(self) -> bytes:
        """Go: Cmd.CombinedOutput: stdout and stderr into one buffer."""
        if self.stdout is not None:
            raise GoError("exec: Stdout already set")
        if self.stderr is not None:
            raise GoError("exec: Stderr already set")
        out = _Buffer()
        self.stdout = self.stderr = out
        try:
            self.run()
        except GoError as e:
            e.output = bytes(out.data)
            raise
        return bytes(out.data)

    def stdin_pipe(self):
        """Go: Cmd.StdinPipe: a writer connected to the command's stdin, closed by Wait."""
        if self.stdin is not None:
            raise GoError("exec: Stdin already set")
        if self.process is not None:
            raise GoError("exec: StdinPipe after process started")
        r, w = os.pipe()
        self.stdin = r
        self._child_io.append(r)
        f = File(w, "|1")
        self._parent_io.append(f)
        return f

    def _out_pipe(self, name: str):
        if getattr(self, name) is not None:
            raise GoError(f"exec: {name.capitalize()} already set")
        if self.process is not None:
            raise GoError(f"exec: {name.capitalize()}Pipe after process started")
        r, w = os.pipe()
        setattr(self, name, w)
        self._child_io.append(w)
        f = File(r, "|0")
        self._parent_io.append(f)
        return f

    def stdout_pipe(self):
        """Go: Cmd.StdoutPipe: a reader of the command's stdout, closed by Wait."""
        return self._out_pipe("stdout")

    def stderr_pipe(self):
        """Go: Cmd.StderrPipe: a reader of the command's stderr, closed by Wait."""
        return self._out_pipe("stderr")


class File:
    """Go: the *os.File of a pipe end that StdinPipe, StdoutPipe and StderrPipe return.

    Go 1.27 returns os.Pipe's file itself, named "|0" (the read end) or "|1"
    (the write end), so its errors are PathErrors with that name: after Close,
    Write, Read and Close give "write |1: file already closed" and the like.
    Write writes everything or raises (Go's File.Write loops); the count
    written before the error is the error's `n`. Read returns b"" at end of
    file (Go's io.EOF). Anything else (readline, iteration) is the
    unbuffered file object's.
    """

    def __init__(self, fd: int, name: str):
        self.name = name
        self._f = os.fdopen(fd, "wb" if name == "|1" else "rb", buffering=0)

    def __getattr__(self, attr):
        return getattr(self._f, attr)

    def _error(self, op: str, err: Exception) -> PathError:
        return PathError(op, self.name, err)

    def write(self, data) -> int:
        n, view = 0, memoryview(data).cast("B")
        if self._f.closed:  # Go: checkValid, even for an empty write
            err = self._error("write", GoError(ERR_CLOSED))
            err.n = 0
            raise err
        while n < len(view):
            if self._f.closed:
                err = self._error("write", GoError(ERR_CLOSED))
            else:
                try:
                    n += self._f.write(view[n:]) or 0
                    continue
                except ValueError:  # closed under us, by Wait
                    err = self._error("write", GoError(ERR_CLOSED))
                except OSError as e:
                    err = self._error("write", Errno(e.errno))
            err.n = n
            raise err
        return n

    def read(self, size: int = -1) -> bytes:
        if self._f.closed:
            raise self._error("read", GoError(ERR_CLOSED))
        try:
            return self._f.read(size) if size >= 0 else self._f.readall()
        except ValueError:
            raise self._error("read", GoError(ERR_CLOSED)) from None
        except OSError as e:
            raise self._error("read", Errno(e.errno)) from None

    def close(self) -> None:
        if self._f.closed:
            raise self._error("close", GoError(ERR_CLOSED))
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if not self._f.closed:
            self._f.close()


def _write_interruptibly(fd: int, data: bytes, cmd: Cmd) -> None:
    """write(2) all of data unless Cmd._interrupt_copies ends it (Go closes the pipe: EPIPE)."""
    import select

    os.set_blocking(fd, False)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    poller.register(cmd._interrupt_r, select.POLLIN)
    while data:
        if cmd._copies_interrupted:
            raise BrokenPipeError(32, "interrupted")
        if fd in {f for f, _ in poller.poll()}:
            try:
                data = data[os.write(fd, data) :]
            except BlockingIOError:
                pass


def _read_interruptibly(fd: int, cmd: Cmd) -> bytes:
    """read(2) that Cmd._interrupt_copies can end, as Go's poller ends a read on a closed pipe."""
    import select

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    poller.register(cmd._interrupt_r, select.POLLIN)
    while not cmd._copies_interrupted:
        if fd in {f for f, _ in poller.poll()}:
            return os.read(fd, 32 << 10)
    return b""


def Command(name: str, *args: str) -> Cmd:  # noqa: N802 - Go's name, kept greppable
    """Go: exec.Command. A bare name is looked up in $PATH now, as in Go."""
    cmd = Cmd(name, [name, *args])
    if _base(name) == name:
        try:
            cmd.path = look_path(name)
        except DotError as e:
            cmd.path, cmd.err = e.path, e
        except Error as e:
            cmd.err = e
    return cmd


def CommandContext(ctx, name: str, *args: str) -> Cmd:  # noqa: N802 - Go's name
    """Go: exec.CommandContext: Cancel kills the process when ctx is done."""
    if ctx is None:
        raise ValueError("nil Context")
    cmd = Command(name, *args)
    cmd._ctx = ctx
    cmd.cancel = lambda: cmd.process.kill()
    return cmd
