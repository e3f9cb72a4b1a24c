"""Start a process the way Go's syscall.forkExec does.

Go creates the child with one clone(2) that carries SysProcAttr.Cloneflags,
so the child itself is born in the new namespaces: with CLONE_NEWPID it is
PID 1 there, and the launcher is its parent. How the port does it is
ProcAttr.strategy (exec.Cmd.strategy), the one field Go does not have:

RAW_CLONE (the default): the same single clone(2) (clone3(2) for a cgroup or
a time namespace), made through ctypes and bracketed by CPython's fork hooks;
see port/rawclone.py for the hazards and how each is handled. The child is
born as Go's is, and the launcher writes the maps while it waits at step 2.
In a process with other threads a raw clone is not safe, and the port falls
back to SUBREAPER; fork_exec records the strategy it took in
ProcAttr.strategy_taken (exec.Cmd.strategy_taken), port-only as well.

    launcher ──clone(Cloneflags|SIGCHLD)──> child: Go's steps, execve

Python's own calls are fork() and unshare(), and unshare(CLONE_NEWPID) moves
only the caller's *next* child into the new PID namespace (CLONE_NEWTIME
likewise). So with those, when Cloneflags holds CLONE_NEWPID or
CLONE_NEWTIME the port forks twice, and the launcher gets the child back in
one of two ways:

SUBREAPER (the fallback): the launcher marks itself a child subreaper for the
moment of the start; the middle process unshares, forks the child (PID 1
inside), hands its pid over and exits, so the kernel re-parents the child to
the launcher. The child waits until the launcher has reaped the middle
process before it takes any step of its own (its Pdeathsig must name the
launcher), and the host then sees launcher ─ sh, as under Go.

    launcher ──fork──> middle: unshare(Cloneflags) ──fork──> child: Go's steps, execve
        └─ reaps middle, adopts child ────────────────────────────┘   (PID 1 inside)

RELAY: the middle process stays, with every signal blocked, waits for the
child and ends the way it ended (the same status, or killed by the same
signal). The launcher sees what Go's sees, but the host's process tree
shows one more process: launcher ─ python ─ sh. With Ptrace it takes
SUBREAPER instead: PTRACE_TRACEME makes the child's parent its tracer, and
the exec stop is the launcher's to see (strategy_taken says so).

Without CLONE_NEWPID and CLONE_NEWTIME there is no middle process: the
forked process unshares and carries on as the child itself.

fork_exec prepares everything that can fail or allocate, as Go's forkExec
does, then takes one of three paths: _start_raw_clone (RAW_CLONE),
_start_adopted (SUBREAPER with a middle process) and _start_forked (RELAY,
or either fork strategy without a middle process). In the new process
_Child.after_raw_clone or _Child.after_fork leads to Go's steps,
_Child.fork_and_exec_in_child1.

Why RAW_CLONE is the default: it is the only strategy whose syscalls match
Go's in kind and order (make trace), it keeps Go's process tree at every
moment, gets the pidfd from CLONE_PIDFD and the cgroup from
CLONE_INTO_CGROUP as Go does, and it is the fastest (numbers in README.md).

Failures before execve reach the launcher as Go's do: the failing process
writes the errno (8 bytes, native order, like Go's uintptr) to a
close-on-exec pipe and exits 253; end-of-file on that pipe means execve
succeeded.
"""

import _signal as signal  # the C module: signal.py wraps everything in enums, ~3 ms a start
import os
import sys

from port import libc, runtime
from port.errors import Errno, GoError
from port.sysprocattr import CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, Record, SysProcAttr

SUBREAPER, RELAY, RAW_CLONE = "subreaper", "relay", "raw-clone"
STRATEGIES = (SUBREAPER, RELAY, RAW_CLONE)


class _Uintptr:
    """Go writes the errno as a uintptr: struct.Struct("=Q") without importing struct."""

    size = 8

    def pack(self, n: int) -> bytes:
        return n.to_bytes(8, sys.byteorder)

    def unpack(self, data: bytes) -> tuple[int]:
        return (int.from_bytes(data, sys.byteorder),)


_ERRNO = _Uintptr()


class ProcAttr(Record):  # Go: syscall.ProcAttr
    dir: str = ""  # chdir(2) in the child
    env: tuple[bytes, ...] = ()  # execve(2) envp
    files: tuple[int, ...] = (0, 1, 2)  # child fd i = files[i]
    sys: SysProcAttr | None = None
    strategy: str = RAW_CLONE  # port-only, the one field Go does not have: how the child is started
    # Port-only, set by fork_exec: the strategy it took, this one or SUBREAPER in RAW_CLONE's stead
    # (rawclone.unusable(): a process with other threads cannot raw-clone). "" before a start.
    strategy_taken: str = ""


class _Pipe(Record):
    """One pipe between the launcher and the forked side (the child, or the middle process).

    Made by os.pipe(), so close-on-exec (PEP 446): it never reaches the executed program.
    """

    read: int
    write: int
    to_launcher: bool  # the launcher reads it; else the launcher writes it

    def launcher_end(self) -> int:
        return self.read if self.to_launcher else self.write

    def child_end(self) -> int:
        return self.write if self.to_launcher else self.read

    def close(self) -> None:
        os.close(self.read)
        os.close(self.write)


TO_LAUNCHER, TO_CHILD = True, False  # a _Pipe's direction


def _open_pipes(**directions: bool | None) -> "_Pipes":
    """Go: forkExecPipe, for each pipe the start's path uses (direction None: not used).

    A pipe that cannot be made (EMFILE, ENFILE) fails the start with its errno before any
    process is made, as Go's forkExec returns it; the pipes made before it are closed.
    """
    made = {}
    try:
        for name, direction in directions.items():
            if direction is not None:
                made[name] = _Pipe(*os.pipe(), direction)
    except OSError as e:
        for pipe in made.values():
            pipe.close()
        raise Errno(e.errno) from None
    return _Pipes(**made)


class _Pipes(Record):
    """The pipes of one start; those its path does not use are None."""

    status: _Pipe  # child -> launcher: errno, or EOF once execve succeeded
    ready: _Pipe | None = None  # forked process -> launcher: unshared, maps may be written (after a fork)
    maps: _Pipe | None = None  # launcher -> forked process: maps written (errno or 0)
    handoff: _Pipe | None = None  # middle -> launcher: the child's pid (SUBREAPER)
    adopt: _Pipe | None = None  # launcher -> child: middle reaped (SUBREAPER)

    def _used(self) -> list[_Pipe]:
        return [p for p in (self.status, self.ready, self.maps, self.handoff, self.adopt) if p is not None]

    def launcher_ends(self) -> list[int]:
        return [p.launcher_end() for p in self._used()]

    def child_ends(self) -> list[int]:
        return [p.child_end() for p in self._used()]

    def close(self) -> None:
        """Both ends of every pipe: a start that failed before any process was made."""
        for p in self._used():
            p.close()


def _cstring(s: str | bytes) -> bytes:
    """Go: BytePtrFromString: a NUL inside is EINVAL."""
    b = os.fsencode(s)
    if b"\0" in b:
        raise Errno(22)
    return b


def _read_exact(fd: int, size: int) -> bytes:
    """Read size bytes, or fewer at end-of-file."""
    data = b""
    while len(data) < size and (chunk := os.read(fd, size - len(data))):
        data += chunk
    return data


def fork_exec(argv0: str, argv: list[str], attr: ProcAttr) -> int:
    """Go: syscall.forkExec. Start argv0 and return the pid to wait for.

    Raises Errno for a failure in the child, GoError for a bad SysProcAttr.
    Everything that allocates or can fail for a logic reason happens here,
    before the fork, as in Go; then attr.strategy picks one of three paths.
    """
    sys_attr = attr.sys or SysProcAttr()
    path, args = _cstring(argv0), [_cstring(a) for a in argv]
    # Go hands execve the list as it is; os.execve wants a mapping, which
    # cannot hold duplicates, an empty name or an entry without "=".
    env_list = [_cstring(e) for e in attr.env]
    env = dict(e.partition(b"=")[::2] for e in env_list)
    raw_execve = None
    if len(env) != len(env_list) or any(b"=" not in e or e.startswith(b"=") for e in env_list):
        raw_execve = libc.prepare_execve(path, args, env_list)
    chroot = _cstring(sys_attr.chroot) if sys_attr.chroot else None
    wdir = _cstring(attr.dir) if attr.dir else None
    if sys_attr.setctty and sys_attr.foreground:
        raise GoError("both Setctty and Foreground set in SysProcAttr")
    if sys_attr.setctty and sys_attr.ctty >= len(attr.files):
        raise GoError("Setctty set but Ctty not valid in child")
    strategy = attr.strategy
    if strategy == RAW_CLONE:
        from port import rawclone

        if rawclone.unusable():
            strategy = SUBREAPER  # see port/rawclone.py: fork(2) takes libc's locks, a raw clone cannot
    # unshare(2) moves only the caller's children into new PID and time namespaces,
    # so there the forked process is a middle process that forks the child.
    middle = bool(sys_attr.cloneflags & (CLONE_NEWPID | CLONE_NEWTIME))
    if middle and strategy == RELAY and sys_attr.ptrace:
        strategy = SUBREAPER  # PTRACE_TRACEME makes the parent the tracer: the launcher, never the relay
    attr.strategy_taken = strategy  # visible to the caller (Cmd.strategy_taken): a fallback is never silent
    if strategy != RAW_CLONE and sys_attr.use_cgroup_fd and not libc.is_cgroup2(sys_attr.cgroup_fd):
        raise Errno(9)  # EBADF: what clone3(CLONE_INTO_CGROUP) says of anything but a cgroup2 directory
    mapped = sys_attr.uid_mappings is not None or sys_attr.gid_mappings is not None
    maps = _MapPayloads(sys_attr) if mapped else None
    child = _Child(path, args, env, chroot, wdir, attr.files, sys_attr, maps, os.getpid(), strategy, raw_execve)
    if strategy == RAW_CLONE:
        return _start_raw_clone(child)
    if middle and strategy == SUBREAPER:
        return _start_adopted(child)
    return _start_forked(child, middle)


def _start_raw_clone(child: "_Child") -> int:
    """RAW_CLONE: Go's one clone(2), carrying Cloneflags (and CLONE_PIDFD, CLONE_INTO_CGROUP).

    The child is born in its namespaces and waits at step 2 while the launcher writes the maps.
    """
    from port import rawclone

    sys_attr, mapped = child.sys, child.maps is not None
    child.pipes = _open_pipes(status=TO_LAUNCHER, maps=TO_CHILD if mapped else None)
    _flush_output()
    cgroup_fd = sys_attr.cgroup_fd if sys_attr.use_cgroup_fd else None
    pid, pidfd = _create(
        child,
        lambda: rawclone.clone(sys_attr.cloneflags, cgroup_fd, sys_attr.pid_fd is not None),
        child.after_raw_clone,
    )
    if mapped:
        _send_maps(child, pid, unshared=True)  # a raw clone is done when it returns
    return _wait_for_exec(child, pid, pidfd)


def _start_forked(child: "_Child", middle: bool) -> int:
    """A fork strategy: fork(2), and the forked process unshares Cloneflags.

    Without a middle process it carries on as the child itself; with one
    (RELAY) it forks the child, PID 1 inside, and stays to end as the child ends.
    """
    mapped = child.maps is not None
    pipes = child.pipes = _open_pipes(
        status=TO_LAUNCHER, ready=TO_LAUNCHER if mapped else None, maps=TO_CHILD if mapped else None
    )
    _flush_output()
    pid, _ = _create(child, lambda: (os.fork(), -1), lambda: child.after_fork(middle))
    if child.maps is not None:
        # After a fork the clone is only done once the forked process has unshared; EOF means it failed.
        _send_maps(child, pid, unshared=bool(os.read(pipes.ready.read, 1)))
    return _wait_for_exec(child, pid)


def _start_adopted(child: "_Child") -> int:
    """SUBREAPER with a middle process: the launcher adopts the child.

    The launcher is a child subreaper for the moment of the start. The middle
    process unshares, forks the child (PID 1 inside), hands its pid over and
    exits; the launcher reaps it, the kernel has re-parented the child to the
    launcher, and only then may the child take its first step.
    """
    mapped = child.maps is not None
    pipes = child.pipes = _open_pipes(
        status=TO_LAUNCHER,
        ready=TO_LAUNCHER if mapped else None,
        maps=TO_CHILD if mapped else None,
        handoff=TO_LAUNCHER,
        adopt=TO_CHILD,
    )
    _flush_output()
    try:
        was_subreaper = libc.prctl_get(libc.PR_GET_CHILD_SUBREAPER)
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
    except OSError as e:  # the start fails before any process is made, as a failed clone does under Go
        pipes.close()
        raise Errno(e.errno) from None
    pid, _ = _create(
        child,
        lambda: (os.fork(), -1),
        lambda: child.after_fork(middle=True),
        undo=lambda: _restore_subreaper(was_subreaper),
    )
    if child.maps is not None:
        # After a fork the clone is only done once the middle process has unshared; EOF means it failed.
        _send_maps(child, pid, unshared=bool(os.read(pipes.ready.read, 1)))
    handed = _read_exact(pipes.handoff.read, _ERRNO.size)
    try:
        os.waitpid(pid, 0)  # the middle process: its child is now ours
    except ChildProcessError:
        # Gone already: with SIGCHLD ignored the kernel reaps it, and wait4 says ECHILD once it is.
        # Ask once more, so that an ECHILD for a middle still there (make faults injects one) is
        # waited out: sh must be ours before we go on.
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    _restore_subreaper(was_subreaper)
    adopted = len(handed) == _ERRNO.size
    if adopted:
        pid = _ERRNO.unpack(handed)[0]
        try:
            os.write(pipes.adopt.write, b"a")  # the child may take its first step
        except OSError as e:
            # The child is gone (EPIPE), or waits for a byte that will not come: closing the adopt pipe
            # makes it exit 253, and the start fails with this errno once the child is reaped.
            try:
                _wait_for_exec(child, pid, failed=True)
            except Errno:
                raise Errno(e.errno) from None
        return _wait_for_exec(child, pid)
    # Not adopted: the middle process failed and is reaped; its errno is on the status pipe. A middle
    # that died without one (killed, or gone before its fork) still failed the start: there is no
    # child to return, and the reaped middle's pid must not pass for one (its Wait would find no
    # child). Go answers a status pipe that closed without a full errno with EPIPE. A middle killed
    # between its fork and its handoff leaves the child re-parented to the launcher, waiting on the
    # adopt pipe: found by that pipe, it exits 253 once the pipe closes and is reaped here.
    orphan = _orphan_holding(pipes.adopt.write)
    try:
        return _wait_for_exec(child, pid, reaped=True, failed=True)
    finally:
        if orphan is not None:
            _reap_soon(orphan)


def _restore_subreaper(was: int) -> None:
    """Put PR_SET_CHILD_SUBREAPER back as it was before the start. It cannot fail with the value the
    kernel gave; should it fail all the same, the start (made or failed) stands: Go has no such step."""
    try:
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, was)
    except OSError:
        pass


def _reap_soon(pid: int, timeout: float = 2.0) -> None:
    """Reap pid, which is exiting (its end of the status pipe is closed); give up after timeout rather
    than hang on a process that is not the one we think."""
    import time

    deadline = time.monotonic() + timeout
    while not os.waitpid(pid, os.WNOHANG)[0] and time.monotonic() < deadline:
        time.sleep(0.001)


def _orphan_holding(fd: int) -> int | None:
    """A child of this process that is PID 1 of its own PID namespace and holds the pipe of fd (from
    /proc), or None: the child a SUBREAPER middle process forked and never handed over."""
    pipe = os.fstat(fd).st_ino
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                children = f.read().split()
        except OSError:
            continue
        for pid in children:
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for n in fds:
                try:
                    if os.stat(f"/proc/{pid}/fd/{n}").st_ino == pipe and _is_namespace_init(pid):
                        return int(pid)
                except OSError:
                    continue
    return None


def _is_namespace_init(pid: str) -> bool:
    """/proc/PID/status's NSpid: more than one pid, the innermost 1."""
    with open(f"/proc/{pid}/status") as f:
        nspid = next((line.split()[1:] for line in f if line.startswith("NSpid:")), [])
    return len(nspid) > 1 and nspid[-1] == "1"


def _flush_output() -> None:
    """Go's os.Stdout and os.Stderr have no buffer: what the launcher printed comes out before the child runs."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def _create(child: "_Child", make, start_child, undo=None) -> tuple[int, int]:
    """Create the new process with make(), the fork or clone: (pid, pidfd), and (0, -1) in the new
    process, which goes on with start_child() and never returns.

    Go: runtime_BeforeFork blocks every signal across the clone; the child restores
    the mask once it has set its process group (step 6), the launcher right after.
    Return (pid, pidfd) in the launcher, with the child's pipe ends closed. A failure
    undoes the start (the mask, undo(), every pipe) and raises Go's Errno.
    """
    child.mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        pid, pidfd = make()
    except OSError as e:
        signal.pthread_sigmask(signal.SIG_SETMASK, child.mask)
        if undo is not None:
            undo()
        child.pipes.close()
        raise Errno(e.errno) from None
    if pid == 0:
        start_child()  # never returns
    signal.pthread_sigmask(signal.SIG_SETMASK, child.mask)
    for fd in child.pipes.child_ends():
        os.close(fd)
    return pid, pidfd


def _send_maps(child: "_Child", pid: int, unshared: bool) -> None:
    """Go: write the maps of the process pid, which waits for them at step 2, then send it the errno
    of that (0: written). Nothing is written when the process failed before unsharing (not unshared),
    or when it makes its user namespace itself (Unshareflags, step 7a)."""
    err2 = 0
    if unshared and not child.sys.unshareflags & CLONE_NEWUSER:
        err2 = _write_uid_gid_mappings(pid, child.maps)
    try:
        os.write(child.pipes.maps.write, _ERRNO.pack(err2))
    except OSError:
        pass  # Go ignores this write's result: the process gone has its errno on the status pipe
    # Go closes its end at once: a process that did not get the errno reads end-of-file (EINVAL), rather
    # than wait for it while the launcher waits for the process (SUBREAPER's hand-off).
    os.close(child.pipes.maps.write)
    child.pipes.maps = None


def _wait_for_exec(
    child: "_Child", pid: int, pidfd: int | None = None, reaped: bool = False, failed: bool = False
) -> int:
    """Go: read the status pipe until execve succeeds (end-of-file) or the child's errno arrives.

    Success: return pid, and set PidFD to pidfd, the raw clone's, or after a fork
    (None) to one opened now. Failure: the child exited 253; reap it unless that is
    done (reaped), drop the pidfd, set PidFD to -1 and raise the errno. failed: the
    start has failed whatever the pipe says (a middle process that handed no child
    over, or an adopted child that could not be let go on); end-of-file is then EPIPE.
    """
    sys_attr, pipes = child.sys, child.pipes
    for fd in pipes.launcher_ends():
        if fd != pipes.status.read:
            os.close(fd)
    data = _read_exact(pipes.status.read, _ERRNO.size)
    os.close(pipes.status.read)
    if data or failed:
        if not reaped:
            os.waitpid(pid, 0)  # reap the child (status 253) so no zombie is left
        if pidfd is not None and pidfd >= 0:
            os.close(pidfd)
        if sys_attr.pid_fd is not None:
            sys_attr.pid_fd[:] = [-1]  # Go: forkAndExecFailureCleanup
        raise Errno(_ERRNO.unpack(data)[0] if len(data) == _ERRNO.size else 32)  # EPIPE
    if sys_attr.pid_fd is not None:
        sys_attr.pid_fd[:] = [_pidfd_open(pid) if pidfd is None else pidfd]
    return pid


def _pidfd_open(pid: int) -> int:
    """Go asks clone for CLONE_PIDFD; after a fork the pidfd is opened right after."""
    try:
        return os.pidfd_open(pid)
    except OSError:
        return -1


class _MapPayloads:
    """The uid_map, gid_map and setgroups texts, built before the fork."""

    def __init__(self, sys_attr: SysProcAttr):
        self.uid = "".join(m.line() for m in sys_attr.uid_mappings or []).encode()
        self.gid = "".join(m.line() for m in sys_attr.gid_mappings or []).encode()
        self.setgroups = b"allow" if sys_attr.gid_mappings_enable_setgroups else b"deny"
        self.has_uid = sys_attr.uid_mappings is not None
        self.has_gid = sys_attr.gid_mappings is not None


def _write_file(path: str, data: bytes, dir_fd: int | None = None) -> None:
    fd = os.open(path, os.O_RDWR if dir_fd is None else os.O_WRONLY, dir_fd=dir_fd)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _write_uid_gid_mappings(pid: int, maps: "_MapPayloads") -> int:
    """Go: syscall.writeUidGidMappings. Return 0 or the errno of the failed write."""
    try:
        if maps.has_uid:
            _write_file(f"/proc/{pid}/uid_map", maps.uid)
        if maps.has_gid:
            try:
                _write_file(f"/proc/{pid}/setgroups", maps.setgroups)
            except FileNotFoundError:
                pass  # kernels before 3.19 have no setgroups file
            _write_file(f"/proc/{pid}/gid_map", maps.gid)
    except OSError as e:
        return e.errno
    return 0


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


class _Child(Record):
    """What the forked side needs, all prepared before the fork."""

    path: bytes
    args: list[bytes]
    env: dict[bytes, bytes]
    chroot: bytes | None
    dir: bytes | None
    files: list[int]
    sys: SysProcAttr
    maps: "_MapPayloads | None"
    ppid: int  # Go records the parent's pid for the Pdeathsig check
    strategy: str = RAW_CLONE  # the one fork_exec took: the asked one, or SUBREAPER in its stead
    raw_execve: object = None  # execve(2) with the env list as it is, when a mapping cannot hold it
    pipes: _Pipes | None = None  # made by the start's path
    mask: frozenset = frozenset()  # the signal mask to restore

    def fail(self, e: BaseException) -> None:
        """Go: childerror: send the errno to the launcher and exit 253. Never returns."""
        try:
            os.write(self.pipes.status.write, _ERRNO.pack(getattr(e, "errno", None) or 22))
        finally:
            os._exit(253)

    def after_fork(self, middle: bool) -> None:
        """After fork(2), stand in for the rest of Go's clone(2): unshare Cloneflags, then
        (middle) fork the child, or carry on as the child. Never returns.
        """
        pipes, sys_attr = self.pipes, self.sys
        try:
            for fd in pipes.launcher_ends():
                os.close(fd)
            if sys_attr.use_cgroup_fd:
                # Go: clone3(CLONE_INTO_CGROUP), born in the cgroup. Python has no
                # clone3, so the new process moves itself there before anything else.
                _write_file("cgroup.procs", b"0", dir_fd=sys_attr.cgroup_fd)
            if sys_attr.cloneflags:
                # One call, so the user namespace is created first and gives the
                # caller privilege over the others (user_namespaces(7)).
                libc.unshare(sys_attr.cloneflags)
            if self.maps is not None:
                # Go's parent can write the maps as soon as clone returns; after
                # a fork it must first learn that unshare is done (the ready pipe).
                os.write(pipes.ready.write, b"u")
                os.close(pipes.ready.write)
                self.wait_for_maps()
            if middle:
                self._fork_middle()
        except BaseException as e:  # noqa: BLE001 - every failure goes to the launcher
            self.fail(e)
        self.fork_and_exec_in_child1()

    def after_raw_clone(self) -> None:
        """RAW_CLONE: the child of the one clone, in its namespaces already. Never returns."""
        try:
            for fd in self.pipes.launcher_ends():
                os.close(fd)
        except BaseException as e:  # noqa: BLE001 - every failure goes to the launcher
            self.fail(e)
        self.fork_and_exec_in_child1()

    def wait_for_maps(self) -> None:
        """Go: step 2: block until the launcher has written the maps; take its errno."""
        data = _read_exact(self.pipes.maps.read, _ERRNO.size)
        os.close(self.pipes.maps.read)
        if len(data) != _ERRNO.size:
            raise Errno(22)
        if err2 := _ERRNO.unpack(data)[0]:
            raise Errno(err2)

    def _fork_middle(self) -> None:
        """In the middle process: fork the child, which is PID 1 of the new namespace.

        Returns only in the child; the middle process hands over or relays.
        """
        pipes = self.pipes
        if self.strategy == RELAY and self.sys.pdeathsig:
            # The child's parent is the relay, so the relay must die with the
            # launcher for the child's Pdeathsig to fire.
            libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != self.ppid:
                os.kill(os.getpid(), signal.SIGKILL)
        relay_pid = os.getpid()
        pid = os.fork()  # the first process forked after unshare is PID 1
        if pid == 0:
            if pipes.adopt is not None:
                # Take no step before the launcher has adopted us: a Pdeathsig
                # set now would fire when the middle process exits.
                os.close(pipes.handoff.write)
                if _read_exact(pipes.adopt.read, 1) != b"a":
                    os._exit(253)  # the launcher is gone
                os.close(pipes.adopt.read)
            else:
                self.ppid = relay_pid
            return
        os.close(pipes.status.write)
        if pipes.adopt is not None:
            os.write(pipes.handoff.write, _ERRNO.pack(pid))
            os._exit(0)
        _relay(pid)

    def fork_and_exec_in_child1(self) -> None:
        """Go: syscall/exec_linux.go forkAndExecInChild1, after the clone.

        One straight line in Go's order; steps that cannot apply keep their
        number. Only raw os calls: no logging, no printing. Never returns.
        """
        sys_attr, maps = self.sys, self.maps
        err_w = self.pipes.status.write
        try:
            # 1. Enable the "keep capabilities" flag to set ambient capabilities later.
            if sys_attr.ambient_caps:
                libc.prctl(libc.PR_SET_KEEPCAPS, 1)
            # 2. Wait for User ID/Group ID mappings to be written (after a fork: in after_fork()).
            if self.strategy == RAW_CLONE and self.maps is not None:
                self.wait_for_maps()
            # 3. Session ID
            if sys_attr.setsid:
                os.setsid()
            # 4. Set process group
            if sys_attr.setpgid or sys_attr.foreground:
                os.setpgid(0, sys_attr.pgid)
            # 5. Place the process group in the foreground (signals still blocked: no SIGTTOU).
            if sys_attr.foreground:
                os.tcsetpgrp(sys_attr.ctty, sys_attr.pgid or os.getpid())
            # 6. Restore the signal handlers and mask (Go: runtime_AfterForkInChild).
            runtime.reset_signals_for_child()
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)
            # 7. Unshare
            if sys_attr.unshareflags:
                libc.unshare(sys_attr.unshareflags)
                if sys_attr.unshareflags & CLONE_NEWUSER and maps is not None:
                    # 7a. The child writes its own maps: gid first, as Go does.
                    if maps.has_gid:
                        _write_file("/proc/self/setgroups", maps.setgroups)
                        _write_file("/proc/self/gid_map", maps.gid)
                    if maps.has_uid:
                        _write_file("/proc/self/uid_map", maps.uid)
                if sys_attr.unshareflags & CLONE_NEWNS:
                    # 7b. systemd mounts / shared; make it private so that nothing
                    # mounted here propagates back (Go's comment cites Debian bug 739593).
                    libc.mount("none", "/", None, libc.MS_REC | libc.MS_PRIVATE)
            # 8. Chroot
            if self.chroot is not None:
                os.chroot(self.chroot)
            # 9. User and groups
            if (cred := sys_attr.credential) is not None:
                groups = cred.groups or []
                skip = sys_attr.gid_mappings is not None and not sys_attr.gid_mappings_enable_setgroups
                if not (skip and not groups) and not cred.no_set_groups:
                    os.setgroups(groups)
                os.setgid(cred.gid)
                os.setuid(cred.uid)
            # 10. Ambient capabilities
            if sys_attr.ambient_caps:
                libc.raise_ambient_caps(sys_attr.ambient_caps)
            # 11. Chdir
            if self.dir is not None:
                os.chdir(self.dir)
            # 12. Parent death signal
            if sys_attr.pdeathsig:
                libc.prctl(libc.PR_SET_PDEATHSIG, sys_attr.pdeathsig)
                # Signal self if the parent is already dead. (In a new PID
                # namespace getppid() is 0, so this always fires, and PID 1
                # ignores it unless it has a handler: the same under Go.)
                if os.getppid() != self.ppid:
                    os.kill(os.getpid(), sys_attr.pdeathsig)
            # 13. Pass 1: move the status pipe and any files[i] < i above the files.
            fd = list(self.files)
            nextfd = max([len(fd), *fd]) + 1
            if err_w < nextfd:
                err_w = os.dup2(err_w, nextfd, inheritable=False)
                self.pipes.status.write = err_w
                nextfd += 1
            for i in range(len(fd)):
                if 0 <= fd[i] < i:
                    if nextfd == err_w:  # don't stomp on the pipe
                        nextfd += 1
                    fd[i] = os.dup2(fd[i], nextfd, inheritable=False)
                    nextfd += 1
            # 13. Pass 2: dup files[i] down onto i.
            for i in range(len(fd)):
                if fd[i] == -1:
                    _close_quietly(i)
                elif fd[i] == i:
                    os.set_inheritable(i, True)  # dup2(i, i) would not clear close-on-exec
                else:
                    os.dup2(fd[i], i)
            for i in range(len(fd), 3):
                _close_quietly(i)
            # 14. Detach fd 0 from the tty; set the controlling tty.
            if sys_attr.noctty:
                libc.ioctl_int(0, libc.TIOCNOTTY, 0)
            if sys_attr.setctty:
                libc.ioctl_int(sys_attr.ctty, libc.TIOCSCTTY, 1)
            # 15. Restore RLIMIT_NOFILE: runtime.init raised it, as Go does at start-up.
            runtime.restore_nofile_limit_in_child()
            # 16. Enable tracing
            if sys_attr.ptrace:
                libc.ptrace(libc.PTRACE_TRACEME, 0)
            # 17. Time to exec.
            if self.raw_execve is not None:
                self.raw_execve()
            os.execve(self.path, self.args, self.env)
        except BaseException as e:  # noqa: BLE001 - every failure goes to the launcher
            self.fail(e)
        os._exit(253)


def _relay(pid: int) -> None:
    """RELAY: wait for the child and end as it ended. Never returns.

    Signals stay blocked: the relay is not there under Go, so nothing aimed
    at the launcher's process group may stop or kill it.
    """
    try:
        _, status = os.waitpid(pid, 0)
    except BaseException:  # noqa: BLE001
        os._exit(253)
    if os.WIFEXITED(status):
        os._exit(os.WEXITSTATUS(status))
    sig = os.WTERMSIG(status)
    if not os.WCOREDUMP(status):
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))  # no core the child did not dump
    if sig not in (signal.SIGKILL, signal.SIGSTOP):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)  # not reached for a signal whose default is to terminate
