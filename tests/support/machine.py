"""What the suite needs from the machine, and what is missing: `make doctor`.

Standard library only: it runs before the virtual environment exists
(scripts/doctor.py), and from tests/conftest.py, so that a missing tool is one
clear error rather than a traceback in the middle of a probe.

TOOLS is the one table of the programs the probes, the tests and the make
targets run, each with its Debian package: doctor checks it, the `tool`
marker (tests/support/markers.py) skips a test by name without an optional
one, and `make docs` writes README.md's list of packages from it
(packages_markdown). Each problem is a Finding: what is wrong and the command
that fixes it. An error stops `make test` and `make parity`; a note says what
will be skipped.
"""

import os
import shutil
import struct
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    """One Debian package, the programs of it that the suite runs, and what goes without it."""

    package: str
    commands: tuple[str, ...]
    used_by: str  # who runs them
    without: str = ""  # what is skipped (or stops) without them; empty: required, the suite does not start

    @property
    def required(self) -> bool:
        return not self.without


# Every program a probe, a test or a make target runs (tests/test_doctor.py checks
# the sources for others). Required ones first; the suite refuses to start without them.
TOOLS = (
    Tool("make", ("make",), "every target"),
    Tool("dash", ("sh",), "the launched shell, the probes and many tests"),
    Tool("coreutils", ("cat", "cksum", "echo", "env", "false", "head", "id", "ls", "nice", "paste", "readlink",
                       "sleep", "sort", "tr", "true", "wc", "whoami"), "the probes and the tests' commands"),
    Tool("grep", ("grep",), "the probes"),
    Tool("sed", ("sed",), "the probes and the matrix"),
    Tool("mawk", ("awk",), "the probes"),
    Tool("iproute2", ("ip",), "the net probes and the bridge between two shells"),
    Tool("procps", ("ps",), "the proc probe"),
    Tool("psmisc", ("pstree",), "the pstree probe"),
    Tool("util-linux", ("ipcs", "ipcmk", "ipcrm", "unshare", "nsenter", "setpriv", "flock", "prlimit",
                        "setsid"),
         "the ipc probe, the unshare launcher, the bridge, the runs as nobody, the venv's lock, a tight RLIMIT_NOFILE, "
         "the tests' pty sessions"),
    Tool("mount", ("mount",), "the mount probe"),
    Tool("hostname", ("hostname",), "the hostname probe"),
    Tool("libc-bin", ("ldd",), "the chroot configuration (it copies sh's libraries)"),
    Tool("strace", ("strace",), "make trace, make docs' step syscalls",
         "the syscall-trace tests are skipped, make trace stops"),
    Tool("bubblewrap", ("bwrap",), "the bwrap launcher of make parity",
         "the bwrap parity tests are skipped, LAUNCHERS=...,bwrap stops"),
    Tool("busybox-static", ("busybox",), "Go's chroot and unprivileged-map tests, make kernels' initramfs",
         "those tests are skipped, make kernels stops"),
    Tool("qemu-system-x86", ("qemu-system-x86_64",), "make kernels' guests (in CI also make test's)",
         "make kernels stops"),
    Tool("qemu-system-arm", ("qemu-system-aarch64",), "make kernels ARCH=arm64's guests (not in CI)",
         "make kernels ARCH=arm64 stops"),
    Tool("dpkg", ("dpkg-deb",), "make kernels (unpacks the kernel packages)", "make kernels stops"),
    Tool("apt", ("apt-get", "apt-cache", "apt-config"), "make kernels (fetches the kernels)",
         "the apt configuration test is skipped, make kernels stops"),
    Tool("tini", ("tini",), "make workloads (an init as PID 1), its slice in make test",
         "the tini workload is not verified, its test is skipped"),
    Tool("catatonit", ("catatonit",), "make workloads (an init as PID 1)", "the catatonit workload is not verified"),
    Tool("slirp4netns", ("slirp4netns",), "make workloads (networking attached from the host), its test",
         "the slirp4netns workload is not verified, its test is skipped"),
    Tool("git", ("git",), "the reports' run metadata", "the reports say the commit is unknown"),
)  # fmt: skip
# What a missing required tool stops (doctor's error; pytest too refuses to start).
REQUIRED_WITHOUT = "required: doctor reports an error"
# What make setup needs besides the commands: ensurepip, which Debian splits out of python3 (python()).
VENV_PACKAGE = "python3-venv"
BY_COMMAND = {cmd: tool for tool in TOOLS for cmd in tool.commands}
# command -> Debian package / (package, what goes without it), by kind.
REQUIRED = {cmd: tool.package for cmd, tool in BY_COMMAND.items() if tool.required}
OPTIONAL = {cmd: (tool.package, tool.without) for cmd, tool in BY_COMMAND.items() if not tool.required}
NAMESPACE_KINDS = ("user", "pid", "uts", "ipc", "mnt", "net", "cgroup", "time")
SYSCTL = "/proc/sys"
CGROUP2 = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")  # hybrid layout first
# The checkout, computed here rather than from paths.py: doctor runs before the venv, and its tests run it
# from a tree holding only scripts/doctor.py and this module.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
    for cmd, tool in BY_COMMAND.items():
        where = shutil.which(cmd, path=path)
        if where is None and tool.required:
            found.append(Finding(f"{cmd} not found ({tool.used_by})", f"apt-get install {tool.package}"))
        elif where is None:
            found.append(Finding(f"{cmd} not found: {tool.without}", f"apt-get install {tool.package}", error=False))
        elif cmd == "busybox" and not is_static(where):
            found.append(Finding(f"{where} is not static: {tool.without}", f"apt-get install {tool.package}",
                                 error=False))  # fmt: skip
    return found


def missing_tools(*names: str) -> str | None:
    """Why a test that runs these commands cannot run here ("busybox not found: apt-get install
    busybox-static"), or None. Every name must be in TOOLS."""
    tools = {cmd: BY_COMMAND[cmd] for cmd in names}  # a name not in TOOLS fails here, even where it is installed
    gone = [f"{cmd} not found: apt-get install {tool.package}" for cmd, tool in tools.items() if not shutil.which(cmd)]
    return "; ".join(gone) or None


def is_static(path: str) -> bool:
    """An ELF file without a PT_INTERP program header (no dynamic loader); False if it cannot be read."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF":
                return False
            phoff, phentsize, phnum = struct.unpack_from("<Q", head, 32)[0], *struct.unpack_from("<HH", head, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
        return all(struct.unpack_from("<I", table, i * phentsize)[0] != 3 for i in range(phnum))  # PT_INTERP
    except (OSError, struct.error):
        return False


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


def _owner(path: str) -> str:
    """The name of path's owner (its uid if it has none; "someone else" if it cannot be read)."""
    import pwd

    try:
        uid = os.stat(path).st_uid
    except OSError:
        return "someone else"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _me() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def venv(path: str) -> list[Finding]:
    """The virtual environment make uses: one this user cannot use (someone else's, in a shared
    tree) is an error; if there is none yet, whether this interpreter can make one. The Makefile's
    venv-usable target asks the same: the venv's python runs and the venv can be written."""
    if not os.path.lexists(path):
        return python()
    python_ = os.path.join(path, "bin", "python")
    if os.access(python_, os.X_OK) and os.access(path, os.W_OK | os.X_OK):
        return []
    owner = _owner(path)
    if owner != _me():
        fix = "work in a clone of your own, or name a venv of yours (make test VENV=~/.cache/nsport-venv)"
        return [Finding(f"{path} belongs to {owner} and {_me()} cannot use it", fix)]
    return [Finding(f"{python_} does not run (its interpreter is gone?)", "make distclean, then make setup")]


def tree(root: str = ROOT) -> list[Finding]:
    """The checkout's build/ and reports/ (or the checkout, where they do not exist yet) must be writable."""
    stuck = []
    for sub in ("build", "reports"):
        where = os.path.join(root, sub)
        if not os.access(where if os.path.lexists(where) else root, os.W_OK | os.X_OK):
            stuck.append(f"{sub}/")
    if not stuck:
        return []
    return [Finding(f"{_me()} cannot write {' and '.join(stuck)} in {root} (owned by {_owner(root)}): make builds "
                    "into build/ (Go's cache too) and writes reports/", "work in a clone of your own")]  # fmt: skip


def home() -> list[Finding]:
    """Nothing needs HOME (Go's build cache is build/go-cache), except make kernels' default download cache."""
    where = os.environ.get("HOME", "")
    if where and os.access(where, os.W_OK | os.X_OK):
        return []
    what = f"HOME ({where}) cannot be written" if where else "HOME is not set"
    return [Finding(f"{what}: make kernels cannot keep its downloads in ~/.cache/nsport-kernels",
                    "name a directory of yours: make kernels KERNELS_CACHE=dir", error=False)]  # fmt: skip


def root_propagation() -> str:
    """shared, slave or private: how / propagates (the mount probes handle each)."""
    for line in (_read("/proc/self/mountinfo") or "").splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[4] == "/" and "-" in fields:
            tags = fields[6 : fields.index("-")]
            kinds = [t.split(":")[0] for t in tags]
            return "shared" if "shared" in kinds else "slave" if "master" in kinds else "private"
    return "unknown"


def check(path: str | None = None, euid: int | None = None, venv_dir: str | None = None) -> list[Finding]:
    """Everything doctor checks: the commands, the kernel, the venv (None: skip it), the tree and HOME."""
    return commands(path) + kernel(euid) + (venv(venv_dir) if venv_dir else []) + tree() + home()


def missing_for_tests() -> str | None:
    """One message naming every error, for the test session; None if none."""
    errors = [f for f in commands() + kernel() if f.error]
    if not errors:
        return None
    return "the machine lacks what the suite needs (make doctor):\n" + "\n".join(f.line() for f in errors)


def packages_markdown() -> str:
    """README.md's list of packages for a fresh machine, from TOOLS (make docs writes it)."""
    required = [VENV_PACKAGE, *(t.package for t in TOOLS if t.required)]
    optional = [t.package for t in TOOLS if not t.required]
    lines = [
        "```sh",
        f"apt-get install {' '.join(required)}",
        f"apt-get install {' '.join(optional)}  # optional",
        "```",
        "",
        "<details><summary>What each package is for (<code>make doctor</code> checks each command)</summary>",
        "",
        "| Debian package | commands | run by | without it |",
        "|---|---|---|---|",
        f"| `{VENV_PACKAGE}` | `python3 -m venv` | make setup (the virtual environment) | {REQUIRED_WITHOUT} |",
    ]
    for t in TOOLS:
        cmds = ", ".join(f"`{c}`" for c in t.commands)
        lines.append(f"| `{t.package}` | {cmds} | {t.used_by} | {t.without or REQUIRED_WITHOUT} |")
    return "\n".join([*lines, "", "</details>"])


PACKAGES_BEGIN, PACKAGES_END = "<!-- packages: make docs -->", "<!-- end of packages -->"


def with_packages(readme: str) -> str:
    """README.md's text with the list of packages between its markers made current."""
    head, rest = readme.split(PACKAGES_BEGIN, 1)
    _, tail = rest.split(PACKAGES_END, 1)
    return f"{head}{PACKAGES_BEGIN}\n{packages_markdown()}\n{PACKAGES_END}{tail}"
