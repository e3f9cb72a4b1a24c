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
back to SUBREAPER.

    launcher ──clone(Cloneflags|SIGCHLD)──> child: Go's steps, execve

Python's own calls are fork() and unshare(), and unshare(CLONE_NEWPID) moves
only the caller's *next* child into the new PID namespace. So with those,
when Cloneflags holds CLONE_NEWPID the port forks twice, and the launcher
gets the child back in one of two ways:

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
shows one more process: launcher ─ python ─ sh.

Without CLONE_NEWPID there is no middle process: the forked process
unshares and carries on as the child itself.

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


class _Pipes(Record):
    """The pipes between launcher and child, each (read end, write end) or None.

    All are close-on-exec (PEP 446), so none reaches the executed program.
    """

    status: tuple[int, int]  # child -> launcher: errno, or EOF once execve succeeded
    ready: tuple[int, int] | None = None  # middle -> launcher: unshared, maps may be written (not RAW_CLONE)
    maps: tuple[int, int] | None = None  # launcher -> middle: maps written (errno or 0)
    handoff: tuple[int, int] | None = None  # middle -> launcher: the child's pid (SUBREAPER)
    adopt: tuple[int, int] | None = None  # launcher -> child: middle reaped (SUBREAPER)

    def launcher_ends(self) -> list[int]:
        pairs = (self.status, self.ready, self.maps, self.handoff, self.adopt)
        return [p[i] for p, i in zip(pairs, (0, 0, 1, 0, 1), strict=True) if p is not None]

    def child_ends(self) -> list[int]:
        pairs = (self.status, self.ready, self.maps, self.handoff, self.adopt)
        return [p[i] for p, i in zip(pairs, (1, 1, 0, 1, 0), strict=True) if p is not None]


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
    before the fork, as in Go.
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
    raw = strategy == RAW_CLONE
    if not raw and sys_attr.use_cgroup_fd and not libc.is_cgroup2(sys_attr.cgroup_fd):
        raise Errno(9)  # EBADF: what clone3(CLONE_INTO_CGROUP) says of anything but a cgroup2 directory
    mapped = sys_attr.uid_mappings is not None or sys_attr.gid_mappings is not None
    maps = _MapPayloads(sys_attr) if mapped else None
    # unshare(2) moves only the caller's children into new PID and time namespaces.
    middle = not raw and bool(sys_attr.cloneflags & (CLONE_NEWPID | CLONE_NEWTIME))
    adopt = middle and strategy == SUBREAPER
    pipes = _Pipes(
        os.pipe(),
        os.pipe() if mapped and not raw else None,
        os.pipe() if mapped else None,
        os.pipe() if adopt else None,
        os.pipe() if adopt else None,
    )
    step = _Child(path, args, env, chroot, wdir, attr.files, sys_attr, maps, pipes, os.getpid(), strategy)
    step.raw_execve = raw_execve
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    if adopt:
        was_subreaper = _get_child_subreaper()
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
    # Go: runtime_BeforeFork blocks every signal across the clone; the child
    # restores the mask once it has set its process group (step 6).
    step.mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    pidfd = -1
    try:
        if raw:
            # Go: one clone carrying Cloneflags (and CLONE_PIDFD, CLONE_INTO_CGROUP).
            cgroup_fd = sys_attr.cgroup_fd if sys_attr.use_cgroup_fd else None
            pid, pidfd = rawclone.clone(sys_attr.cloneflags, cgroup_fd, sys_attr.pid_fd is not None)
        else:
            pid = os.fork()
    except OSError as e:
        signal.pthread_sigmask(signal.SIG_SETMASK, step.mask)
        if adopt:
            libc.prctl(libc.PR_SET_CHILD_SUBREAPER, was_subreaper)
        for fd in pipes.launcher_ends() + pipes.child_ends():
            os.close(fd)
        raise Errno(e.errno) from None
    if pid == 0:
        if raw:
            step.born()  # never returns
        step.clone(middle)  # never returns
    signal.pthread_sigmask(signal.SIG_SETMASK, step.mask)
    for fd in pipes.child_ends():
        os.close(fd)
    if mapped:
        err2 = 0
        # After a fork the clone is only done once the middle process has unshared;
        # EOF means it failed. A raw clone is done when it returns.
        unshared = raw or os.read(pipes.ready[0], 1)
        if unshared and not sys_attr.unshareflags & CLONE_NEWUSER:
            err2 = _write_uid_gid_mappings(pid, maps)
        try:
            os.write(pipes.maps[1], _ERRNO.pack(err2))
        except BrokenPipeError:
            pass  # the middle process is gone; its errno is on the status pipe
    reaped = False
    if adopt:
        handed = _read_exact(pipes.handoff[0], _ERRNO.size)
        os.waitpid(pid, 0)  # the middle process: its child is now ours
        reaped = True
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, was_subreaper)
        if len(handed) == _ERRNO.size:
            pid, reaped = _ERRNO.unpack(handed)[0], False
            os.write(pipes.adopt[1], b"a")
    for fd in pipes.launcher_ends()[1:]:
        os.close(fd)
    data = _read_exact(pipes.status[0], _ERRNO.size)
    os.close(pipes.status[0])
    if data:
        if not reaped:
            os.waitpid(pid, 0)  # reap the child (status 253) so no zombie is left
        if pidfd >= 0:
            os.close(pidfd)
        if sys_attr.pid_fd is not None:
            sys_attr.pid_fd[:] = [-1]  # Go: forkAndExecFailureCleanup
        raise Errno(_ERRNO.unpack(data)[0] if len(data) == _ERRNO.size else 32)  # EPIPE
    if sys_attr.pid_fd is not None:
        sys_attr.pid_fd[:] = [pidfd if raw else _pidfd_open(pid)]
    return pid


def _get_child_subreaper() -> int:
    return libc.prctl_get(libc.PR_GET_CHILD_SUBREAPER)


def _pidfd_open(pid: int) -> int:
    """Go asks clone for CLONE_PIDFD; here the pidfd is opened right after."""
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
    pipes: _Pipes
    ppid: int  # Go records the parent's pid for the Pdeathsig check
    strategy: str = RAW_CLONE
    mask: frozenset = frozenset()  # the signal mask to restore
    raw_execve: object = None  # execve(2) with the env list as it is, when a mapping cannot hold it

    def fail(self, e: BaseException) -> None:
        """Go: childerror: send the errno to the launcher and exit 253. Never returns."""
        try:
            os.write(self.pipes.status[1], _ERRNO.pack(getattr(e, "errno", None) or 22))
        finally:
            os._exit(253)

    def clone(self, middle: bool) -> None:
        """Stand in for the rest of Go's clone(2): create the namespaces, then the child.

        Runs in the forked process and never returns.
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
                os.write(pipes.ready[1], b"u")
                os.close(pipes.ready[1])
                self.wait_for_maps()
            if middle:
                self._fork_middle()
        except BaseException as e:  # noqa: BLE001 - every failure goes to the launcher
            self.fail(e)
        self.fork_and_exec_in_child1()

    def born(self) -> None:
        """RAW_CLONE: the child of the one clone, in its namespaces already. Never returns."""
        try:
            for fd in self.pipes.launcher_ends():
                os.close(fd)
        except BaseException as e:  # noqa: BLE001 - every failure goes to the launcher
            self.fail(e)
        self.fork_and_exec_in_child1()

    def wait_for_maps(self) -> None:
        """Go: step 2: block until the launcher has written the maps; take its errno."""
        data = _read_exact(self.pipes.maps[0], _ERRNO.size)
        os.close(self.pipes.maps[0])
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
                os.close(pipes.handoff[1])
                if _read_exact(pipes.adopt[0], 1) != b"a":
                    os._exit(253)  # the launcher is gone
                os.close(pipes.adopt[0])
            else:
                self.ppid = relay_pid
            return
        os.close(pipes.status[1])
        if pipes.adopt is not None:
            os.write(pipes.handoff[1], _ERRNO.pack(pid))
            os._exit(0)
        _relay(pid)

    def fork_and_exec_in_child1(self) -> None:
        """Go: syscall/exec_linux.go forkAndExecInChild1, after the clone.

        One straight line in Go's order; steps that cannot apply keep their
        number. Only raw os calls: no logging, no printing. Never returns.
        """
        sys_attr, maps = self.sys, self.maps
        err_w = self.pipes.status[1]
        try:
            # 1. Enable the "keep capabilities" flag to set ambient capabilities later.
            if sys_attr.ambient_caps:
                libc.prctl(libc.PR_SET_KEEPCAPS, 1)
            # 2. Wait for User ID/Group ID mappings to be written (after a fork: in clone()).
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
                self.pipes.status = (-1, err_w)
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
                libc.ptrace(libc.PTRACE_TRACEME)
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
