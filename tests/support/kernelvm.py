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
SPLIT_PARTS = ("linux-base-", "linux-binary-", "linux-modules-")  # what a Debian 7.x image depends on
# The stock amd64 flavour: 5.10.0-46, 6.1.0-0.deb11.52 (a backport), 6.12.117+deb13.
IMAGE = re.compile(r"^linux-image-(\d+)\.(\d+)\.(\d+)(-\d+|-0\.deb\d+\.\d+|\+deb\d+)-amd64$")


class KernelError(Exception):
    """A kernel could not be found, fetched, booted or trusted: one line for the user."""


# ---- which kernel ---------------------------------------------------------------------------------


def series(package: str) -> str | None:
    """linux-image-5.10.0-46-amd64 -> "5.10"; None for other flavours (cloud, rt, dbg, meta)."""
    m = IMAGE.match(package)
    return f"{m[1]}.{m[2]}" if m else None


def version_key(package: str) -> tuple[int, ...]:
    """Every number in the name, in order: newer ABI and patch levels sort later."""
    return tuple(int(n) for n in re.findall(r"\d+", package))


def resolve(wanted: list[str], packages: list[str]) -> dict[str, str]:
    """{what the user asked for: image package}; "5.10" is the newest 5.10, "newest" the newest of all.

    An exact package name or kernel release (5.10.0-46-amd64) is taken as it is.
    """
    images = sorted((p for p in packages if series(p)), key=version_key)
    if not images:
        raise KernelError("no linux-image packages in the package lists (apt-get update failed?)")
    chosen = {}
    for want in wanted:
        if want == "newest":
            matches = images
        elif want.startswith("linux-image-") or want.endswith("-amd64"):
            matches = [p for p in images if p in (want, f"linux-image-{want}")]
        else:
            matches = [p for p in images if series(p) == want]
        if not matches:
            known = ", ".join(dict.fromkeys(series(p) for p in images))
            raise KernelError(f"no Debian kernel {want!r} in {', '.join(s for _, s in SUITES)} (there are: {known})")
        chosen[want] = matches[-1]
    return chosen


def release(package: str) -> str:
    """The kernel release (uname -r) a linux-image package boots: linux-image-X -> X."""
    return package.removeprefix("linux-image-")


# ---- fetching, through a private APT_CONFIG --------------------------------------------------------


def sources_list(suites=SUITES, keyring: str = KEYRING) -> str:
    return "".join(f"deb [signed-by={keyring}] {url} {suite} main\n" for url, suite in suites)


def apt_conf(root: Path) -> str:
    """apt's configuration for root alone: its own sources, lists, cache and (empty) dpkg status."""
    return f"""Dir::Etc::SourceList "{root}/sources.list";
Dir::Etc::SourceParts "{root}/sources.list.d";
Dir::Etc::Preferences "{root}/preferences";
Dir::Etc::PreferencesParts "{root}/preferences.d";
Dir::State "{root}/state";
Dir::State::Lists "{root}/lists";
Dir::State::status "{root}/status";
Dir::Cache "{root}/cache";
APT::Architecture "amd64";
APT::Architectures {{ "amd64"; }};
APT::Sandbox::User "root";
Acquire::Languages "none";
"""


class Apt:
    """apt-get and apt-cache with a configuration of their own under root."""

    def __init__(self, root: Path):
        self.root = root
        for d in ("sources.list.d", "preferences.d", "state", "lists/partial", "cache/archives/partial"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "sources.list").write_text(sources_list())
        (root / "apt.conf").write_text(apt_conf(root))
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


def initramfs(kernel: Kernel, cache: Path) -> Path:
    """cache/RELEASE.cpio: busybox, the modules stage 1 loads, and tests/programs/guest/init."""
    index = module_index(kernel.modules)
    blobs: dict[str, bytes] = {}

    def deps(name: str) -> list[str]:
        blobs[name] = read_module(index[name])
        return [d for d in modinfo(blobs[name]).get("depends", "").split(",") if d]

    missing = [m for m in MODULES if m not in index and not builtin(kernel, m)]
    if missing:
        raise KernelError(f"{kernel.package} lacks the modules {', '.join(missing)} (neither shipped nor built in)")
    if not os.path.exists(BUSYBOX):
        raise KernelError(f"{BUSYBOX} not found: apt-get install busybox-static")
    order = load_order(MODULES, index, deps)
    dirs = ["bin", "dev", "proc", "sys", "lower", "rw", "newroot", "modules"]
    entries = [(d, 0o040755, b"") for d in dirs]
    entries += [
        ("bin/busybox", 0o100755, Path(BUSYBOX).read_bytes()),
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

CMDLINE = ("console=ttyS0", "mitigations=off", "panic=-1", "quiet", "loglevel=3", "rdinit=/init")


def qemu_argv(kernel: Path, initrd: Path, job: Path, *, cpus: int = 1, memory: str = "2048M",
              cpu: str = "qemu64", nice: int = 15) -> list[str]:  # fmt: skip
    """The qemu command line: TCG, serial console on stdout, / read-only and the job share writable."""
    share = "local,security_model=none,multidevs=remap"
    argv = ["nice", "-n", str(nice)] if nice else []
    return [
        *argv, "qemu-system-x86_64", "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
        "-accel", "tcg,thread=multi", "-cpu", cpu, "-smp", str(cpus), "-m", memory,
        "-serial", "stdio", "-kernel", str(kernel), "-initrd", str(initrd), "-append", " ".join(CMDLINE),
        "-virtfs", f"{share},path=/,mount_tag=hostroot,readonly=on",
        "-virtfs", f"{share},path={job},mount_tag=job",
    ]  # fmt: skip


@dataclass
class Run:
    release: str  # what the guest's uname -r said ("" if it never got that far)
    status: int | None  # the command's exit status; None if it did not finish
    seconds: float
    console: str  # the serial console, the guest's whole output
    error: str | None = None  # why the result cannot be trusted


def job_result(job: Path, expected: str) -> tuple[str, int | None, str | None]:
    """(uname -r, status, error) from what stage 2 left in the job share."""
    seen = (job / "uname").read_text().strip() if (job / "uname").exists() else ""
    raw = (job / "status").read_text().strip() if (job / "status").exists() else ""
    status = int(raw) if raw.lstrip("-").isdigit() else None
    if not seen:
        return seen, status, "the guest never reached the command (see the console log)"
    if seen != expected:
        return seen, status, f"the guest ran {seen}, not {expected}: its results are not used"
    if status is None:
        return seen, status, "the command did not finish (no exit status)"
    return seen, status, None


def boot(kernel: Kernel, command: str, job: Path, initrd: Path, *, cwd: Path, timeout: float,
         echo=None, **qemu) -> Run:  # fmt: skip
    """Run command (sh text) in cwd inside the guest; job is the writable share; echo(line) sees the console."""
    job.mkdir(parents=True, exist_ok=True)
    for stale in ("uname", "status"):
        (job / stale).unlink(missing_ok=True)
    (job / "command").write_text(command)
    (job / "cwd").write_text(str(cwd))
    shutil.copy(GUEST / "stage2", job / "stage2")
    argv = qemu_argv(kernel.vmlinuz, initrd, job, **qemu)
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
    seen, status, error = job_result(job, kernel.release)
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
NEEDS = {"qemu-system-x86_64": "qemu-system-x86", "busybox": "busybox-static", "dpkg-deb": "dpkg", "apt-get": "apt"}


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
