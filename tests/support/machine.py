"""What the suite needs from the machine, and what is missing: `make doctor`.

Standard library only: it runs before the virtual environment exists
(scripts/doctor.py), and from tests/conftest.py, so that a missing tool is one
clear error rather than a traceback in the middle of a probe.

Each problem is a Finding: what is wrong and the command that fixes it.
An error stops `make test` and `make parity`; a note says what will be skipped.
"""

import os
import shutil
import sys
from dataclasses import dataclass

# command -> Debian package, for what the probes and tests run.
REQUIRED = {
    "sh": "dash",
    "awk": "mawk",
    "ip": "iproute2",
    "ps": "procps",
    "pstree": "psmisc",
    "ipcs": "util-linux",
    "ipcmk": "util-linux",
    "ipcrm": "util-linux",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "setpriv": "util-linux",
    "flock": "util-linux",
    "mount": "mount",
    "hostname": "hostname",
    "ldd": "libc-bin",
}
# command -> (package, what goes without it)
OPTIONAL = {
    "strace": ("strace", "syscall traces (make trace) are skipped"),
    "bwrap": ("bubblewrap", "bubblewrap's parity rows are skipped"),
}
NAMESPACE_KINDS = ("user", "pid", "uts", "ipc", "mnt", "net", "cgroup", "time")
SYSCTL = "/proc/sys"
CGROUP2 = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")  # hybrid layout first


@dataclass(frozen=True)
class Finding:
    what: str  # what is wrong, one line
    fix: str  # the command (or step) that fixes it
    error: bool = True  # False: only a note (something is skipped)

    def line(self) -> str:
        return f"{'error' if self.error else 'note'}: {self.what}: {self.fix}"


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def commands(path: str | None = None) -> list[Finding]:
    """Every required command missing from PATH (or the given path), and optional ones."""
    found = []
    for cmd, pkg in REQUIRED.items():
        if shutil.which(cmd, path=path) is None:
            found.append(Finding(f"{cmd} not found (the probes run it)", f"apt-get install {pkg}"))
    for cmd, (pkg, without) in OPTIONAL.items():
        if shutil.which(cmd, path=path) is None:
            found.append(Finding(f"{cmd} not found: {without}", f"apt-get install {pkg}", error=False))
    return found


def kernel(euid: int | None = None) -> list[Finding]:
    """Namespace support and limits, cgroup2, and what an ordinary user may do."""
    euid = os.geteuid() if euid is None else euid
    found = []
    for ns in NAMESPACE_KINDS:
        if not os.path.exists(f"/proc/self/ns/{ns}"):
            # The suite skips what needs time namespaces (tests/support/kernel_features.py): only a note.
            lacks = f"the kernel has no {ns} namespaces" + (": what needs them is skipped" if ns == "time" else "")
            found.append(Finding(lacks, f"a kernel built with CONFIG_{ns.upper()}_NS", error=ns != "time"))
        if _read(f"{SYSCTL}/user/max_{ns}_namespaces") == "0":
            found.append(Finding(f"user.max_{ns}_namespaces is 0", f"sysctl -w user.max_{ns}_namespaces=10000"))
    if euid != 0:
        if _read(f"{SYSCTL}/kernel/unprivileged_userns_clone") == "0":
            found.append(Finding("unprivileged user namespaces are off: the namespace tests are skipped",
                                 "sysctl -w kernel.unprivileged_userns_clone=1", error=False))  # fmt: skip
        if _read(f"{SYSCTL}/kernel/apparmor_restrict_unprivileged_userns") == "1":
            found.append(Finding("AppArmor restricts unprivileged user namespaces: the namespace tests are skipped",
                                 "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0", error=False))  # fmt: skip
        found.append(Finding("not root: the tests that need root are skipped", "run as root (sudo make test)",
                             error=False))  # fmt: skip
    if cgroup2_root() is None:
        found.append(Finding("no cgroup v2 hierarchy at /sys/fs/cgroup: the cgroup configuration is skipped",
                             "mount -t cgroup2 none /sys/fs/cgroup (or boot with systemd.unified_cgroup_hierarchy=1)",
                             error=False))  # fmt: skip
    return found


def cgroup2_root() -> str | None:
    """Where the cgroup v2 hierarchy is mounted (hybrid layouts have it under unified/), or None."""
    return next((d for d in CGROUP2 if os.path.exists(f"{d}/cgroup.controllers")), None)


def python() -> list[Finding]:
    try:
        import ensurepip  # noqa: F401 - Debian splits it out of python3
    except ImportError:
        minor = f"{sys.version_info.major}.{sys.version_info.minor}"
        return [Finding(f"python{minor} cannot make virtual environments", f"apt-get install python{minor}-venv")]
    return []


def root_propagation() -> str:
    """shared, slave or private: how / propagates (the mount probes handle each)."""
    for line in (_read("/proc/self/mountinfo") or "").splitlines():
        fields = line.split()
        if fields[4] == "/":
            tags = fields[6 : fields.index("-")]
            kinds = [t.split(":")[0] for t in tags]
            return "shared" if "shared" in kinds else "slave" if "master" in kinds else "private"
    return "unknown"


def check(path: str | None = None, euid: int | None = None, venv: bool = True) -> list[Finding]:
    return commands(path) + kernel(euid) + (python() if venv else [])


def missing_for_tests() -> str | None:
    """One message naming every error, for the test session; None if none."""
    errors = [f for f in commands() + kernel() if f.error]
    if not errors:
        return None
    return "the machine lacks what the suite needs (make doctor):\n" + "\n".join(f.line() for f in errors)
