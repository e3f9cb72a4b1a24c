"""Every architecture-dependent value of the port is Go's, for each architecture it has tables for.

tests/support/gotables_gen.py (make tables) reads port/gotables_arch.py's rows and port/gotables.py's texts from Go's
sources as text. These tests ask Go's own type checker instead (tests/programs/gofacts: go/types
with the gc compiler's sizes for each GOARCH, over GOROOT's syscall, runtime and x/sys/unix), read
the errno and signal tables with a parser of their own, and check the values the port keeps as
plain constants because they are the same everywhere. On any other machine the port refuses in one
line (test_unknown_architecture_is_refused); on this one nothing changed (test_x86_64_row_is_unchanged).
"""

import fcntl
import functools
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from port import launcher, libc, rawclone, sysprocattr
from port.gotables import ERRORS_OWN, SIGNALS
from port.gotables_arch import ARCHES
from tests.support import gotables_gen
from tests.support.paths import BUILD, GO, PROGRAMS, PYTHON, ROOT

GOARCHES = {"x86_64": "amd64", "aarch64": "arm64", "riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x"}
GOFACTS, GOFACTS_SOURCE = BUILD / "gofacts", PROGRAMS / "gofacts/main.go"  # make build/gofacts
GOENV = {"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-trimpath", "GOCACHE": str(ROOT / "build/go-cache")}
CLONE_FLAGS = [name for name in vars(sysprocattr) if name.startswith("CLONE_")]
ERRNOS = {"EINVAL": 22, "EBADF": 9, "EPIPE": 32, "EISDIR": 21, "EACCES": 13, "ECHILD": 10}  # port/exec*.py's literals
REQUEST = {
    "syscall": {
        "consts": ["SYS_CLONE", "SYS_RT_SIGACTION", "_SYS_clone3", "TIOCSCTTY", "TIOCNOTTY", "MS_REC", "MS_PRIVATE",
                   "PR_SET_PDEATHSIG", "PR_SET_KEEPCAPS", "PTRACE_TRACEME", "PTRACE_DETACH", "WALL", "SIGCHLD",
                   "_LINUX_CAPABILITY_VERSION_3", *CLONE_FLAGS, *ERRNOS,
                   *(f"SIG{name}" for name in launcher.SIGNALS)],
        "structs": ["Statfs_t", "cloneArgs"],
    },
    "runtime": {"consts": [], "structs": ["sigactiont"]},
    "golang.org/x/sys/unix": {
        "consts": ["CSIGNAL", "CGROUP2_SUPER_MAGIC", "PR_SET_CHILD_SUBREAPER", "PR_GET_CHILD_SUBREAPER",
                   "PR_CAP_AMBIENT", "PR_CAP_AMBIENT_RAISE", *(f"CAP_{name.upper()}" for name in launcher.CAP_NAMES)],
        "structs": [],
    },
}  # fmt: skip


@functools.cache
def goroot() -> Path:
    proc = subprocess.run(
        [GO, "env", "GOROOT"], env={**os.environ, **GOENV}, capture_output=True, text=True, check=True
    )
    return Path(proc.stdout.strip())


@functools.cache
def go_facts() -> dict:
    """{GOARCH: {package: {"consts": {name: int}, "structs": {name: {"size", "fields"}}}}}, from go/types.

    The program is build/gofacts, which make builds (compiling go/types is about 10 s of CPU, the
    build's cost, not the tests'). Type-checking five architectures takes about 3 s of CPU, so the
    answer is kept in build/, named by what determines it: the request, the gofacts program's source
    and the Go release (GOROOT/VERSION; x/sys/unix is GOROOT's vendored copy)."""
    request = {"goroot": str(goroot()), "arches": list(GOARCHES.values()), "packages": REQUEST}
    inputs = json.dumps(request).encode() + GOFACTS_SOURCE.read_bytes()
    kept = BUILD / f"gofacts-{hashlib.sha256(inputs + (goroot() / 'VERSION').read_bytes()).hexdigest()[:16]}.json"
    # One process type-checks, the others wait for its answer (each xdist worker would otherwise run it).
    with open(BUILD / "gofacts.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not kept.exists():
            assert GOFACTS.exists() and GOFACTS.stat().st_mtime >= GOFACTS_SOURCE.stat().st_mtime, (
                f"{GOFACTS} is missing or older than {GOFACTS_SOURCE}: run make build/gofacts (make test does)"
            )
            proc = subprocess.run([GOFACTS], input=json.dumps(request), env={**os.environ, **GOENV},
                                  capture_output=True, text=True)  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            part = kept.with_suffix(f".{os.getpid()}")  # renamed whole: a concurrent run never reads half a file
            part.write_text(proc.stdout)
            part.rename(kept)
    facts = json.loads(kept.read_text())
    for packages in facts.values():
        for found in packages.values():
            found["consts"] = {name: int(value) for name, value in found["consts"].items()}
    return facts


def go_const(goarch: str, name: str) -> int:
    """NAME in Go's syscall package for GOARCH, else in x/sys/unix (syscall lacks a few)."""
    packages = go_facts()[goarch]
    return packages["syscall"]["consts"].get(name, packages["golang.org/x/sys/unix"]["consts"].get(name))


def go_layout(goarch: str, package: str, struct: str) -> tuple[dict[str, tuple[int, int]], int]:
    found = go_facts()[goarch][package]["structs"][struct]
    return {name: tuple(where) for name, where in found["fields"].items()}, found["size"]


@pytest.mark.parametrize("machine", GOARCHES)
def test_row_is_gos(machine):
    """Each value of the machine's row is what Go's compiler sees for that GOARCH; the row has no
    other key, so a value added to the tables cannot go unchecked."""
    goarch, row = GOARCHES[machine], ARCHES[machine]
    statfs, statfs_size = go_layout(goarch, "syscall", "Statfs_t")
    sigaction, sigaction_size = go_layout(goarch, "runtime", "sigactiont")
    assert row == {
        "GOARCH": goarch,
        "SYS_CLONE": go_const(goarch, "SYS_CLONE"),
        "SYS_CLONE3": go_const(goarch, "_SYS_clone3"),
        "SYS_RT_SIGACTION": go_const(goarch, "SYS_RT_SIGACTION"),
        "CLONE_ARG_ORDER": row["CLONE_ARG_ORDER"],  # test_clone_argument_order
        "TIOCSCTTY": go_const(goarch, "TIOCSCTTY"),
        "TIOCNOTTY": go_const(goarch, "TIOCNOTTY"),
        "STATFS_SIZE": statfs_size,
        "STATFS_TYPE": statfs["Type"],
        "SIGACTION_SIZE": sigaction_size,
        "SIGACTION_HANDLER": sigaction["sa_handler"],
        "SIGACTION_MASK": sigaction["sa_mask"],
    }


def test_the_tables_differ_where_go_says():
    """The rows are not one row copied: the values that differ in Go's sources differ here."""
    assert {m: ARCHES[m]["SYS_RT_SIGACTION"] for m in ARCHES} == {
        "x86_64": 13, "aarch64": 134, "riscv64": 134, "ppc64le": 173, "s390x": 174}  # fmt: skip
    assert {m for m in ARCHES if ARCHES[m]["STATFS_TYPE"] != (0, 8)} == {"s390x"}
    assert {m for m in ARCHES if ARCHES[m]["SIGACTION_MASK"][0] != 24} == {"riscv64"}  # no sa_restorer before it


def test_clone_argument_order():
    """clone(2)'s first three arguments as Go passes them: syscall/exec_linux.go swaps flags and stack
    on s390x alone, parent_tid third everywhere. amd64's runtime/sys_linux_amd64.s puts the TLS in
    R8, the fifth argument. Where arm64, riscv64 and ppc64le take tls (fourth, the kernel's
    CONFIG_CLONE_BACKWARDS) Go's sources never say: Go passes 0 for both, and so does the port."""
    src = goroot() / "src"
    exec_linux = (src / "syscall/exec_linux.go").read_text()
    swapped = set(re.findall(r'if runtime\.GOARCH == "(\w+)" \{\n[^\n]*\n\s*pid, err1 = rawVforkSyscall\(SYS_CLONE, 0, '
                             r"flags, uintptr\(unsafe\.Pointer\(&pidfd\)\)\)", exec_linux))  # fmt: skip
    assert swapped == {"s390x"}
    assert "rawVforkSyscall(SYS_CLONE, flags, 0, uintptr(unsafe.Pointer(&pidfd)))" in exec_linux
    for machine, goarch in GOARCHES.items():
        first = ("stack", "flags") if goarch in swapped else ("flags", "stack")
        assert ARCHES[machine]["CLONE_ARG_ORDER"][:3] == (*first, "parent_tid")
        assert sorted(ARCHES[machine]["CLONE_ARG_ORDER"][3:]) == ["child_tid", "tls"]
    clone = (src / "runtime/sys_linux_amd64.s").read_text().split("TEXT runtime·clone(SB)", 1)[1].split("SYSCALL", 1)[0]
    assert re.search(r"LEAQ\tm_tls\(R13\), R8", clone)
    assert ARCHES["x86_64"]["CLONE_ARG_ORDER"][4] == "tls"


@pytest.mark.parametrize("machine", GOARCHES)
def test_arch_independent_constants_are_gos(machine):
    """The constants the port keeps in its own modules are Go's on every architecture."""
    goarch = GOARCHES[machine]
    kept = {
        **{name: getattr(libc, name) for name in ("MS_REC", "MS_PRIVATE", "PR_SET_PDEATHSIG", "PR_SET_KEEPCAPS",
                                                  "PR_SET_CHILD_SUBREAPER", "PR_GET_CHILD_SUBREAPER",
                                                  "PR_CAP_AMBIENT", "PR_CAP_AMBIENT_RAISE", "PTRACE_TRACEME",
                                                  "CGROUP2_SUPER_MAGIC")},
        "_LINUX_CAPABILITY_VERSION_3": libc.LINUX_CAPABILITY_VERSION_3,
        "CSIGNAL": rawclone.CSIGNAL,
        "SIGCHLD": rawclone.SIGCHLD,
        **{name: getattr(sysprocattr, name) for name in CLONE_FLAGS},
        "WALL": getattr(launcher, "__WALL"),
        "PTRACE_DETACH": launcher.PTRACE_DETACH,
        **{f"SIG{name}": number for name, number in launcher.SIGNALS.items()},
        **{f"CAP_{name.upper()}": number for number, name in enumerate(launcher.CAP_NAMES)},
        **ERRNOS,
    }  # fmt: skip
    assert {name: go_const(goarch, name) for name in kept} == kept


@pytest.mark.parametrize("machine", GOARCHES)
def test_clone_args_is_gos(machine):
    """struct clone_args: rawclone.CLONE_ARGS's fields are Go's cloneArgs's, in order, each 8 bytes."""
    fields, size = go_layout(GOARCHES[machine], "syscall", "cloneArgs")
    in_order = [name.lower() for name in sorted(fields, key=fields.get)]
    assert in_order == [field.replace("_", "") for field in rawclone.CLONE_ARGS]
    assert sorted(fields.values()) == [(8 * i, 8) for i in range(len(rawclone.CLONE_ARGS))]
    assert size == len(rawclone.clone_args())


def go_texts(goarch: str, table: str) -> dict[int, str]:
    """Go's `var TABLE = [...]string{...}` in zerrors_linux_GOARCH.go, read apart from the generator."""
    source = (goroot() / f"src/syscall/zerrors_linux_{goarch}.go").read_text()
    block = re.search(rf"^var {table} = \[\.\.\.\]string\{{$(.*?)^\}}$", source, re.M | re.S)[1]
    return {int(n): json.loads(text) for n, text in re.findall(r'^\s*(\d+):\s*("[^"\n]*"),\s*$', block, re.M)}


@pytest.mark.parametrize("machine", GOARCHES)
def test_errno_and_signal_texts_are_gos(machine):
    """The errno texts the port prints on a machine are that GOARCH's (they differ: amd64 has no
    text for 133, ppc64le one for 58); the signal texts are every GOARCH's."""
    from port import gotables

    shared = {n: s for n, s in gotables.ERRORS.items() if n not in ERRORS_OWN[os.uname().machine]}
    assert {**shared, **ERRORS_OWN[machine]} == go_texts(GOARCHES[machine], "errors")
    assert go_texts(GOARCHES[machine], "signals") == SIGNALS


def test_x86_64_row_is_unchanged():
    """x86_64's values are the ones the port used before the tables: nothing changes on such a host."""
    assert ARCHES["x86_64"] == {
        "GOARCH": "amd64", "SYS_CLONE": 56, "SYS_CLONE3": 435, "SYS_RT_SIGACTION": 13,
        "CLONE_ARG_ORDER": ("flags", "stack", "parent_tid", "child_tid", "tls"),
        "TIOCSCTTY": 0x540E, "TIOCNOTTY": 0x5422, "STATFS_SIZE": 120, "STATFS_TYPE": (0, 8),
        "SIGACTION_SIZE": 32, "SIGACTION_HANDLER": (0, 8), "SIGACTION_MASK": (24, 8),
    }  # fmt: skip
    assert ERRORS_OWN["x86_64"] == {}


def test_this_machine_takes_its_row():
    from port import arch

    assert arch.MACHINE == os.uname().machine
    assert arch.ROW is ARCHES[arch.MACHINE]
    assert (libc.SYS_RT_SIGACTION, rawclone.SYS_CLONE) == (arch.ROW["SYS_RT_SIGACTION"], arch.ROW["SYS_CLONE"])


FAKE_MACHINE = """
import os, runpy, sys
fake = os.uname_result((*os.uname()[:4], sys.argv[1]))
os.uname = lambda: fake
sys.argv = sys.argv[2:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("module", ["port.notes", "port.launcher"])
@pytest.mark.parametrize("machine", ["mips64", "i686"])
def test_unknown_architecture_is_refused(module, machine):
    """On a machine without tables the port starts nothing: one line on stderr, status 1."""
    proc = subprocess.run([PYTHON, "-c", FAKE_MACHINE, machine, module, "true"], cwd=ROOT, input="echo hi\n",
                          capture_output=True, text=True)  # fmt: skip
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (f"port: no tables for architecture {machine} "
                           "(there are for x86_64, aarch64, riscv64, ppc64le, s390x)\n")  # fmt: skip


def test_a_known_machine_name_is_not_refused():
    """The same harness with this machine's own name gets the launcher's help: the refusal is the name's."""
    proc = subprocess.run([PYTHON, "-c", FAKE_MACHINE, os.uname().machine, "port.launcher", "--help"], cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.startswith("Usage: launcher")


def test_generator_refuses_signal_tables_that_differ(tmp_path):
    """The generator asserts the signal texts are the same for every GOARCH before it writes one table."""
    src = tmp_path / "src"
    for rel in ("syscall", "runtime"):
        (src / rel).mkdir(parents=True)
        for file in (goroot() / "src" / rel).glob("*_linux_*.go"):
            (src / rel / file.name).write_text(file.read_text())
    (src / "syscall/exec_linux.go").write_text((goroot() / "src/syscall/exec_linux.go").read_text())
    assert gotables_gen.generate(src, "go")  # the copy generates
    riscv = src / "syscall/zerrors_linux_riscv64.go"
    riscv.write_text(riscv.read_text().replace('\t9:  "killed",', '\t9:  "killed dead",'))
    with pytest.raises(AssertionError, match="signal texts differ"):
        gotables_gen.generate(src, "go")
