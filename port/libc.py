"""Call the few Linux syscalls the os module lacks, through _ctypes.

Every call here passes ints, bytes, None or a small array of C ints, which
_ctypes, the C half of ctypes, handles alone: the ctypes package on top of it
costs about 1.4 ms of imports a start (struct and many class definitions)
that these calls do not need. Nothing is imported lazily either, since the
child may call these after setuid(2) or chroot(2), when it can no longer read
the standard library. Each wrapper raises OSError(errno) like the os module does.
"""

import os
import sys

from port.arch import ROW

# The same on every architecture the port has tables for (tests/test_arch_tables.py checks
# each against Go's zerrors_linux_<arch>.go, or x/sys/unix's where syscall lacks one).
PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
PTRACE_TRACEME = 0
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# ioctl numbers differ between architectures (TIOCSPGRP on ppc64le, say): from the tables.
TIOCSCTTY = ROW["TIOCSCTTY"]
TIOCNOTTY = ROW["TIOCNOTTY"]

_libc = None


class _Libc:
    """What ctypes.CDLL(None, use_errno=True) gives, built from _ctypes alone:
    functions by attribute, returning a C int, with errno saved."""

    def __init__(self):
        import _ctypes

        class Int(_ctypes._SimpleCData):  # ctypes.c_int
            _type_ = "i"

        class Long(_ctypes._SimpleCData):  # ctypes.c_long
            _type_ = "l"

        class Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
            _restype_ = Int

        self._handle = _ctypes.dlopen(None)  # the process itself, as CDLL(None)
        self._function, self.get_errno, self.byref = Function, _ctypes.get_errno, _ctypes.byref
        self.Int, self.Long, self.addressof = Int, Long, _ctypes.addressof

    def python_function(self, name: str, restype: type | None):
        """What ctypes.PyDLL(None, use_errno=True)[name] gives: the GIL stays held across the call
        (CDLL releases it), and restype None is void."""
        import _ctypes

        class Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_PYTHONAPI | _ctypes.FUNCFLAG_USE_ERRNO
            _restype_ = self.Int

        function = Function((name, self))
        function.restype = restype
        return function

    def __getattr__(self, name: str):
        function = self._function((name, self))
        setattr(self, name, function)
        return function


def libc() -> _Libc:
    """Return the process's libc, loaded once with errno tracking."""
    global _libc
    if _libc is None:
        _libc = _Libc()
    return _libc


def _check(rc: int) -> int:
    if rc < 0:
        err = libc().get_errno()
        raise OSError(err, os.strerror(err))
    return rc


def unshare(flags: int) -> None:
    """unshare(2), through libc on every Python: os.unshare exists only from 3.12, and one path is one
    behaviour whatever the interpreter."""
    _check(libc().unshare(flags))


SYS_RT_SIGACTION = ROW["SYS_RT_SIGACTION"]
SIG_DFL, SIG_IGN = 0, 1


def set_signal_raw(sig: int, handler: int) -> None:
    """rt_sigaction(2) to SIG_DFL or SIG_IGN, bypassing glibc.

    glibc refuses to touch signals 32 and 33 (its SIGCANCEL and SIGSETXID),
    but the kernel does not, and Go does (see port/runtime.py).
    """
    (at, size), (_, sigset_size) = ROW["SIGACTION_HANDLER"], ROW["SIGACTION_MASK"]
    action = bytearray(ROW["SIGACTION_SIZE"])  # struct sigaction: flags, restorer (if any), mask all 0
    action[at : at + size] = handler.to_bytes(size, sys.byteorder)
    _check(libc().syscall(SYS_RT_SIGACTION, sig, bytes(action), None, sigset_size))


SA_NODEFER, SA_RESETHAND = 0x40000000, 0x80000000


def add_sigaction_flags(sig: int, flags: int) -> None:
    """rt_sigaction(2): set sig's action again, as it is, with flags added.

    The action is read and written back whole, so only sa_flags changes: the
    unsigned long right after the handler in every layout the tables know.
    """
    lib = libc()
    (at, size), (_, sigset_size) = ROW["SIGACTION_HANDLER"], ROW["SIGACTION_MASK"]
    action = (lib.Long * (ROW["SIGACTION_SIZE"] // 8))()
    _check(lib.syscall(SYS_RT_SIGACTION, sig, None, action, sigset_size))
    action[(at + size) // 8] |= flags
    _check(lib.syscall(SYS_RT_SIGACTION, sig, action, None, sigset_size))


CGROUP2_SUPER_MAGIC = 0x63677270  # the kernel's, on every architecture (x/sys/unix zerrors_linux.go)


def is_cgroup2(fd: int) -> bool:
    """fstatfs(2): is fd a directory of the cgroup v2 file system?"""
    lib = libc()
    buf = (lib.Int * (ROW["STATFS_SIZE"] // 4))()  # struct statfs (a whole number of ints everywhere)
    _check(lib.fstatfs(fd, buf))
    at, size = ROW["STATFS_TYPE"]  # f_type: 8 bytes, but 4 on s390x
    return int.from_bytes(bytes(buf)[at : at + size], sys.byteorder) == CGROUP2_SUPER_MAGIC


def prctl(option: int, arg2: int) -> None:
    """prctl(2) with a small integer argument (libffi widens it to the register)."""
    _check(libc().prctl(option, arg2, 0, 0, 0))


def prctl_get(option: int) -> int:
    """prctl(2) for the options that store an int through arg2 (PR_GET_CHILD_SUBREAPER)."""
    lib = libc()
    value = lib.Int(0)
    _check(lib.prctl(option, lib.byref(value), 0, 0, 0))
    return value.value


def mount(source: str, target: str, fstype: str | None, flags: int) -> None:
    fs = fstype.encode() if fstype else None
    _check(libc().mount(source.encode(), target.encode(), fs, flags, None))


def ioctl_int(fd: int, request: int, arg: int) -> None:
    """ioctl(2) with an integer argument (TIOCSCTTY, TIOCNOTTY)."""
    _check(libc().ioctl(fd, request, arg))


def ptrace(request: int, pid: int) -> None:
    """ptrace(2) for the requests that take no address or data (TRACEME, DETACH)."""
    _check(libc().ptrace(request, pid, None, None))


def raise_ambient_caps(caps: list[int]) -> None:
    """Add caps to permitted and inheritable, then raise them as ambient.

    Go: syscall/exec_linux.go forkAndExecInChild1, the AmbientCaps block.
    """
    lib = libc()
    header = (lib.Int * 2)(LINUX_CAPABILITY_VERSION_3, 0)  # struct __user_cap_header_struct: version, pid
    data = (lib.Int * 6)()  # two struct __user_cap_data_struct: effective, permitted, inheritable
    _check(lib.capget(header, data))
    for cap in caps:
        word, bit = 3 * (cap >> 5), 1 << (cap & 31)  # bit 31 wraps to a negative C int: the same bits
        data[word + 1] |= bit
        data[word + 2] |= bit
    _check(lib.capset(header, data))
    for cap in caps:
        _check(lib.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0))


def prepare_execve(path: bytes, argv: list[bytes], envp: list[bytes]):
    """Build execve(2)'s arrays now, before the fork; return a call that execs or raises OSError.

    os.execve takes the environment as a mapping; Go passes a list, which may
    repeat a name or hold entries without "=".
    """
    import _ctypes

    class CharP(_ctypes._SimpleCData):  # ctypes.c_char_p
        _type_ = "z"

    def array(items: list[bytes]):
        class Array(_ctypes.Array):  # char *[]: the items, then NULL
            _type_ = CharP
            _length_ = len(items) + 1

        return Array(*items, None)

    c_argv, c_envp = array(argv), array(envp)
    execve = libc().execve

    def call() -> None:
        execve(path, c_argv, c_envp)
        _check(-1)

    return call
