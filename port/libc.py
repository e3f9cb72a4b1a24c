"""Call the few Linux syscalls the os module lacks, through ctypes.

ctypes is imported on first use only: on Python 3.12+ the notes program needs
none of this (os.unshare exists), so its launch path stays light.
Each wrapper raises OSError(errno) like the os module does.
"""

import os

PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
TIOCSCTTY = 0x540E
TIOCNOTTY = 0x5422
PTRACE_TRACEME = 0
LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = None


def libc():
    """Return the process's libc, loaded once with errno tracking."""
    global _libc
    if _libc is None:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(rc: int) -> int:
    if rc < 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return rc


def unshare(flags: int) -> None:
    """unshare(2): os.unshare on 3.12+, libc on 3.11."""
    if hasattr(os, "unshare"):
        os.unshare(flags)
    else:
        _check(libc().unshare(flags))


SYS_RT_SIGACTION = 13  # x86_64
SIG_DFL, SIG_IGN = 0, 1


def set_signal_raw(sig: int, handler: int) -> None:
    """rt_sigaction(2) to SIG_DFL or SIG_IGN, bypassing glibc.

    glibc refuses to touch signals 32 and 33 (its SIGCANCEL and SIGSETXID),
    but the kernel does not, and Go does (see port/runtime.py).
    """
    import ctypes

    action = (ctypes.c_ulong * 4)(handler, 0, 0, 0)  # handler, flags, restorer, mask
    _check(libc().syscall(SYS_RT_SIGACTION, sig, action, None, 8))


CGROUP2_SUPER_MAGIC = 0x63677270


def is_cgroup2(fd: int) -> bool:
    """fstatfs(2): is fd a directory of the cgroup v2 file system?"""
    import ctypes

    buf = (ctypes.c_long * 16)()  # struct statfs; f_type comes first
    _check(libc().fstatfs(fd, buf))
    return buf[0] == CGROUP2_SUPER_MAGIC


def prctl(option: int, arg2: int = 0) -> None:
    import ctypes

    _check(libc().prctl(option, ctypes.c_ulong(arg2), 0, 0, 0))


def mount(source: str, target: str, fstype: str | None, flags: int) -> None:
    import ctypes

    fs = fstype.encode() if fstype else None
    _check(libc().mount(source.encode(), target.encode(), fs, ctypes.c_ulong(flags), None))


def ioctl_int(fd: int, request: int, arg: int) -> None:
    """ioctl(2) with an integer argument (TIOCSCTTY, TIOCNOTTY)."""
    import ctypes

    _check(libc().ioctl(fd, ctypes.c_ulong(request), ctypes.c_long(arg)))


def ptrace(request: int, pid: int = 0) -> None:
    """ptrace(2) for the requests that take no address or data (TRACEME, DETACH)."""
    _check(libc().ptrace(request, pid, None, None))


def raise_ambient_caps(caps: list[int]) -> None:
    """Add caps to permitted and inheritable, then raise them as ambient.

    Go: syscall/exec_linux.go forkAndExecInChild1, the AmbientCaps block.
    """
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    hdr = Header(LINUX_CAPABILITY_VERSION_3, 0)
    data = (Data * 2)()
    _check(libc().capget(ctypes.byref(hdr), data))
    for cap in caps:
        data[cap >> 5].permitted |= 1 << (cap & 31)
        data[cap >> 5].inheritable |= 1 << (cap & 31)
    _check(libc().capset(ctypes.byref(hdr), data))
    for cap in caps:
        _check(libc().prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, ctypes.c_ulong(cap), 0, 0))
