"""One clone(2) from Python, as Go's forkExec makes it: the RAW_CLONE strategy.

Go starts a process with a single clone(2) (clone3(2) for CLONE_INTO_CGROUP
or CLONE_NEWTIME) that carries every Cloneflags bit, so the child is born in
its namespaces: PID 1 of a new PID namespace, a child of the launcher. This
module makes that same call through _ctypes (port/libc.py), with a NULL stack (fork-like: the
child runs on a copy of the caller's stack) and SIGCHLD as exit signal, and
brackets it with CPython's own fork hooks, exactly as os.fork() does:
PyOS_BeforeFork() (takes the import lock, runs os.register_at_fork's
`before` callbacks), the syscall, then PyOS_AfterFork_Child() in the child
(re-initialises the GIL, threading, the import lock, runs `after_in_child`)
or PyOS_AfterFork_Parent() in the parent. The functions are called as
ctypes.PyDLL's are, so the GIL stays held across the call: no other Python thread runs
between the hooks.

What a raw clone skips, compared with glibc's fork(), and how each hazard is
handled:

- glibc's cached ids. glibc >= 2.25 no longer caches getpid(), so os.getpid()
  in the child is right (1 in a new PID namespace). But the TID in the
  child's struct pthread is still the parent thread's (glibc's fork passes
  CLONE_CHILD_SETTID to refresh it; its address is glibc-private). Handled:
  usable() refuses glibc < 2.25, and the child never asks glibc to signal
  "this thread" (raise, pthread_kill): it uses kill(getpid()), and execve
  discards the stale value.
- Locks held by other threads. glibc's fork takes its malloc, stdio and
  loader locks first and resets them in the child; a raw clone copies them in
  whatever state other threads left them, and the child runs Python, which
  allocates. A single-threaded process holds none of them at the clone (the
  only thread is inside the syscall). Handled: usable() refuses a process
  with more than one thread (/proc/self/task), and fork_exec falls back to
  the fork(2)-based SUBREAPER strategy.
- CLONE_NEWPID's first child is PID 1: signals without a handler are
  ignored, getppid() is 0, and when it exits the kernel kills the rest of
  the namespace. Handled: the child makes no other process, blocks every
  signal until step 6 (as Go's runtime_BeforeFork does), and its Pdeathsig
  check compares getppid() like Go's, with Go's result (always fires,
  ignored by PID 1). Errors still reach the launcher through the status pipe.
- The ID maps. With CLONE_NEWUSER the launcher writes /proc/PID/uid_map and
  gid_map between the clone and the child's step 2, where the child waits on
  a pipe for them, as Go does; no ready pipe is needed, since the namespace
  exists when clone returns.

What stays different from Go: Go adds CLONE_VFORK|CLONE_VM when there is no
user namespace (the parent sleeps until execve); a Python child cannot share
the interpreter's memory, so this is a plain fork-like clone.
"""

import os
import sys

from port import libc
from port.arch import ROW
from port.sysprocattr import CLONE_INTO_CGROUP, CLONE_PIDFD

# The same on every architecture the port has tables for (tests/test_arch_tables.py checks them).
CSIGNAL = 0xFF  # clone(2)'s low byte is the exit signal; CLONE_NEWTIME (0x80) lives there too
SIGCHLD = 17
# From the tables: the numbers, and clone(2)'s argument order. parent_tid (CLONE_PIDFD's slot) is
# third everywhere; s390x takes the stack before the flags, and arm64, riscv64 and ppc64le the
# tls before child_tid (both NULL here).
SYS_CLONE = ROW["SYS_CLONE"]
SYS_CLONE3 = ROW["SYS_CLONE3"]
CLONE_ARG_ORDER = ROW["CLONE_ARG_ORDER"]


# struct clone_args (linux/sched.h), as Go's cloneArgs: every field a u64 on every architecture.
CLONE_ARGS = ("flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls",
              "set_tid", "set_tid_size", "cgroup")  # fmt: skip


def clone_args(**fields: int) -> bytes:
    """struct clone_args with the given fields, the rest 0."""
    return b"".join(fields.get(name, 0).to_bytes(8, sys.byteorder) for name in CLONE_ARGS)


# As ctypes.PyDLL: the GIL is held across each call (CDLL would release it around the syscall).
_lib = libc.libc()
_syscall = _lib.python_function("syscall", _lib.Long)
_before_fork = _lib.python_function("PyOS_BeforeFork", None)
_after_fork_parent = _lib.python_function("PyOS_AfterFork_Parent", None)
_after_fork_child = _lib.python_function("PyOS_AfterFork_Child", None)


def unusable() -> str | None:
    """Why a raw clone is not safe in this process now, or None."""
    gnu = "CS_GNU_LIBC_VERSION" in os.confstr_names  # absent on musl, which caches no pid either
    libc_name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") if gnu else "").partition(" ")
    if libc_name == "glibc" and tuple(map(int, version.split("."))) < (2, 25):
        return f"glibc {version} caches getpid()"
    if len(os.listdir("/proc/self/task")) > 1:
        return "other threads may hold libc's locks"
    return None


def clone(flags: int, cgroup_fd: int | None = None, pidfd: bool = False) -> tuple[int, int]:
    """Go: forkAndExecInChild1's clone. Return (pid, pidfd or -1); (0, -1) in the child.

    flags are the namespace flags; SIGCHLD is added. Raises OSError.
    """
    fd = _lib.Int(-1)
    if pidfd:
        flags |= CLONE_PIDFD
    if cgroup_fd is not None or flags & CSIGNAL:
        # Go: clone3 for CLONE_INTO_CGROUP and for CLONE_NEWTIME (not expressible in clone(2)).
        if cgroup_fd is not None:
            flags |= CLONE_INTO_CGROUP
        args = clone_args(flags=flags, pidfd=_lib.addressof(fd), exit_signal=SIGCHLD, cgroup=cgroup_fd or 0)
        call = (_lib.Long(SYS_CLONE3), args, _lib.Long(len(args)))
    else:
        args = {"flags": _lib.Long(flags | SIGCHLD), "stack": None, "parent_tid": _lib.byref(fd)}
        call = (_lib.Long(SYS_CLONE), *(args.get(name) for name in CLONE_ARG_ORDER))
    _before_fork()
    pid = _syscall(*call)
    if pid == 0:
        _after_fork_child()
        return 0, -1
    err = _lib.get_errno()
    _after_fork_parent()
    if pid < 0:
        raise OSError(err, os.strerror(err))
    return pid, fd.value
