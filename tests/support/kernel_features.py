"""What this kernel can do, found by trying it, never by its version number.

Each check is a small function returning None when the kernel has the feature,
else the feature's name, which is what a test skipped for it says:

    if missing := kernel_features.missing("time_ns"):
        pytest.skip(f"the kernel lacks {missing}")

Kernels patch features in and out (distributions backport, configs drop
them), so `uname -r` says little; the call or the file says it all.
"""

import ctypes
import errno
import os
import subprocess

from port.sysprocattr import CLONE_INTO_CGROUP

SYS_CLONE3 = 435  # x86_64, arm64 and the generic table alike
CLONE_ARGS_SIZE_VER2 = 88  # struct clone_args up to .cgroup


def _syscall_errno(number: int, *args) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(ctypes.c_long(number), *args) == -1:
        return ctypes.get_errno()
    return 0


def time_ns() -> str | None:
    return None if os.path.exists("/proc/self/ns/time") else "time namespaces (/proc/self/ns/time)"


def setgroups_file() -> str | None:
    return None if os.path.exists("/proc/self/setgroups") else "/proc/PID/setgroups"


def pidfd_open() -> str | None:
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError as e:
        if e.errno == errno.ENOSYS:
            return "pidfd_open(2)"
        raise
    return None


def clone3() -> str | None:
    # A NULL, zero-sized argument: EINVAL from a kernel that has clone3, ENOSYS from one without.
    return "clone3(2)" if _syscall_errno(SYS_CLONE3, None, ctypes.c_size_t(0)) == errno.ENOSYS else None


def clone_into_cgroup() -> str | None:
    """CLONE_INTO_CGROUP with a cgroup fd that cannot be open: EBADF if the flag is known, else EINVAL.

    Nothing is created either way: the kernel looks the fd up before it copies the process.
    """
    if missing := clone3():
        return missing
    args = (ctypes.c_uint64 * (CLONE_ARGS_SIZE_VER2 // 8))()
    args[0] = CLONE_INTO_CGROUP  # .flags
    args[10] = 2**31 - 1  # .cgroup: above any fd limit, within the kernel's INT_MAX
    found = _syscall_errno(SYS_CLONE3, ctypes.byref(args), ctypes.c_size_t(CLONE_ARGS_SIZE_VER2))
    return None if found == errno.EBADF else "clone3(CLONE_INTO_CGROUP)"


def veth_links() -> str | None:
    """A veth pair in a throw-away network namespace (the guest of make kernels loads the module at boot)."""
    script = "ip link add nsk0 type veth peer name nsk1"
    proc = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    return None if proc.returncode == 0 else "veth links (ip link add type veth)"


CHECKS = {
    "time_ns": time_ns,
    "setgroups_file": setgroups_file,
    "pidfd_open": pidfd_open,
    "clone3": clone3,
    "clone_into_cgroup": clone_into_cgroup,
    "veth_links": veth_links,
}


def missing(*features: str) -> str | None:
    """The name of the first feature the kernel lacks, or None."""
    for feature in features:
        if name := CHECKS[feature]():
            return name
    return None


def report() -> dict[str, bool]:
    """{feature: present} for every check: what `make kernels` records per kernel."""
    return {feature: check() is None for feature, check in CHECKS.items()}
