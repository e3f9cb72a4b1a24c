"""What scripts/gen_go_tables.py (make tables) writes: port/gotables.py and port/gotables_arch.py,
read from the Go toolchain's own sources.

Go spells errno and signal names its own way ("operation not permitted",
"killed"); the port must print the same bytes, so the texts are read from
Go's syscall/zerrors_linux_<arch>.go rather than typed by hand. The signal
texts are the same for every architecture below (asserted here); the errno
texts are not (amd64's table lacks 133, EHWPOISON; ppc64le's has 58,
EDEADLOCK), so port/gotables.py holds the shared ones and each
architecture's own.

Every other value the port needs that depends on the architecture goes to
port/gotables_arch.py, one row per Linux machine name (uname -m), from:
- syscall numbers: syscall/zsysnum_linux_<arch>.go (clone, rt_sigaction) and
  syscall/syscall_linux_<arch>.go (_SYS_clone3);
- ioctl numbers: syscall/zerrors_linux_<arch>.go (TIOCSCTTY, TIOCNOTTY);
- struct statfs: syscall/ztypes_linux_<arch>.go's Statfs_t (s390x's f_type is 4 bytes);
- struct sigaction: runtime/defs_linux_<arch>.go's sigactiont (riscv64 has
  no sa_restorer before sa_mask; Go appends one at the end, which the kernel
  does not read);
- clone(2)'s argument order: Go passes only the first three, and swaps the
  first two on s390x (syscall/exec_linux.go, checked here); the order of the
  last two (child_tid, tls) is the kernel's CONFIG_CLONE_BACKWARDS choice,
  which Go's sources state only for amd64 (runtime/sys_linux_amd64.s puts
  the TLS in R8, the fifth argument), so CLONE_TAIL below names it.

    files = generate(goroot / "src", "go1.27.3")  # {path: text}; scripts/gen_go_tables.py writes them
"""

import json
import re
from pathlib import Path

from tests.support.paths import ROOT

OUT = ROOT / "port" / "gotables.py"
OUT_ARCH = ROOT / "port" / "gotables_arch.py"

# Linux machine name (uname -m) for each GOARCH the port has tables for.
MACHINES = {"amd64": "x86_64", "arm64": "aarch64", "riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x"}
# Where a file is shared by the two ppc64 flavours, its name says ppc64x.
FILE_ARCH = {"ppc64le": "ppc64x"}
# The kernel's clone(2) after (flags, stack, parent_tid): CONFIG_CLONE_BACKWARDS (arm64,
# riscv64, powerpc) puts tls fourth; the default (x86_64) and CLONE_BACKWARDS2 (s390) put it fifth.
CLONE_TAIL = {
    "amd64": ("child_tid", "tls"),
    "arm64": ("tls", "child_tid"),
    "riscv64": ("tls", "child_tid"),
    "ppc64le": ("tls", "child_tid"),
    "s390x": ("child_tid", "tls"),
}

ENTRY = re.compile(r'^\t(\d+):\s+"([^"]*)",$')
# runtime/sigtab_linux_generic.go: `/* 3 */ {_SigNotify + _SigThrow, "SIGQUIT: quit"},`
SIGTAB = re.compile(r'^\t/\* (\d+) \*/ \{([^,]*), "([^"]*)"\},')
CONST = re.compile(r"^\t(\w+)\s*=\s*(?:\w+\()?(0x[0-9a-fA-F]+|\d+)\)?\s*(?://.*)?$", re.M)
SIZES = {"int8": 1, "uint8": 1, "byte": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
         "int64": 8, "uint64": 8, "uintptr": 8}  # fmt: skip


def read_table(source: str, name: str) -> dict[int, str]:
    """Return the `var NAME = [...]string{...}` table of a Go source file."""
    body = source.split(f"var {name} = [...]string{{\n", 1)[1].split("\n}\n", 1)[0]
    return {int(m[1]): m[2] for m in map(ENTRY.match, body.splitlines()) if m}


def read_consts(source: str) -> dict[str, int]:
    """Return the NAME = number lines of a Go source's const blocks (Errno(0x1) counts as 1)."""
    return {name: int(value, 0) for name, value in CONST.findall(source)}


def struct_fields(source: str, name: str) -> list[tuple[str, str]]:
    """Return the (field, type) pairs of `type NAME struct {...}` in a Go source."""
    body = source.split(f"\ntype {name} struct {{\n", 1)[1].split("\n}\n", 1)[0]
    lines = (line.split("//")[0].split() for line in body.splitlines())
    return [(words[0], words[1]) for words in lines if words]


def layout(source: str, name: str) -> tuple[dict[str, tuple[int, int]], int]:
    """Return ({field: (offset, size)}, size) of a Go struct, as the gc compiler lays it out on
    a 64-bit machine: each field at a multiple of its alignment, the size a multiple of the largest."""
    fields, offset, align = {}, 0, 1
    for field, kind in struct_fields(source, name):
        size, field_align = type_size(source, kind)
        offset = -(-offset // field_align) * field_align
        fields[field] = (offset, size)
        offset, align = offset + size, max(align, field_align)
    return fields, -(-offset // align) * align


def type_size(source: str, kind: str) -> tuple[int, int]:
    """Return (size, alignment) of a Go type: a basic type, an array of one, or a struct in source."""
    if m := re.fullmatch(r"\[(\d+)\](\w+)", kind):
        size, align = type_size(source, m[2])
        return int(m[1]) * size, align
    if kind in SIZES:
        return SIZES[kind], SIZES[kind]
    size = layout(source, kind)[1]
    return size, max(type_size(source, k)[1] for _, k in struct_fields(source, kind))


def clone_order(exec_linux: str, goarch: str) -> tuple[str, ...]:
    """clone(2)'s arguments in order: Go's exec_linux.go says which of flags and stack comes first."""
    swapped = re.search(r'if runtime\.GOARCH == "(\w+)" \{\n\s*// On Linux/\w+, the first two arguments of clone\(2\) '
                        r"are swapped\.\n\s*pid, err1 = rawVforkSyscall\(SYS_CLONE, 0, flags,", exec_linux)  # fmt: skip
    assert swapped, "syscall/exec_linux.go no longer says which architecture swaps clone's arguments"
    head = ("stack", "flags") if goarch == swapped[1] else ("flags", "stack")
    return (*head, "parent_tid", *CLONE_TAIL[goarch])


def arch_row(src: Path, goarch: str) -> dict:
    """The port's architecture-dependent values for one GOARCH, read from Go's sources."""
    file_arch = FILE_ARCH.get(goarch, goarch)
    sysnum = read_consts((src / f"syscall/zsysnum_linux_{goarch}.go").read_text())
    zerrors = read_consts((src / f"syscall/zerrors_linux_{goarch}.go").read_text())
    private = read_consts((src / f"syscall/syscall_linux_{file_arch}.go").read_text())
    statfs, statfs_size = layout((src / f"syscall/ztypes_linux_{goarch}.go").read_text(), "Statfs_t")
    sigaction, sigaction_size = layout((src / f"runtime/defs_linux_{goarch}.go").read_text(), "sigactiont")
    return {
        "GOARCH": goarch,
        "SYS_CLONE": sysnum["SYS_CLONE"],
        "SYS_CLONE3": private["_SYS_clone3"],
        "SYS_RT_SIGACTION": sysnum["SYS_RT_SIGACTION"],
        "CLONE_ARG_ORDER": clone_order((src / "syscall/exec_linux.go").read_text(), goarch),
        "TIOCSCTTY": zerrors["TIOCSCTTY"],
        "TIOCNOTTY": zerrors["TIOCNOTTY"],
        "STATFS_SIZE": statfs_size,
        "STATFS_TYPE": statfs["Type"],  # (offset, size) of f_type
        "SIGACTION_SIZE": sigaction_size,
        "SIGACTION_HANDLER": sigaction["sa_handler"],
        "SIGACTION_MASK": sigaction["sa_mask"],  # its size is rt_sigaction's sigsetsize
    }


def read_crashes(source: str) -> dict[int, str]:
    """The runtime's sigtable entries that crash the program (_SigThrow, or _SigPanic sent by kill)."""
    matches = filter(None, map(SIGTAB.match, source.splitlines()))
    return {int(m[1]): m[3] for m in matches if "_SigThrow" in m[2] or "_SigPanic" in m[2]}


def render_texts(errors: dict[str, dict[int, str]], signals: dict[int, str], crashes: dict[int, str],
                 version: str) -> str:  # fmt: skip
    shared = {n: s for n, s in errors["amd64"].items() if all(table.get(n) == s for table in errors.values())}
    for goarch, table in errors.items():
        clash = {n for n in set(table) & set(shared) if table[n] != shared[n]}
        assert not clash, f"{goarch} spells errno {clash} differently"
    own = {MACHINES[goarch]: {n: s for n, s in table.items() if n not in shared} for goarch, table in errors.items()}
    lines = [
        f'"""Go\'s errno and signal texts ({version}, syscall/zerrors_linux_<arch>.go).',
        "",
        "The signal texts are the same on every architecture the port knows; the errno texts",
        "are shared but for a few each architecture has on its own (ERRORS_OWN). CRASHES: the",
        "signals that crash a Go program, with their runtime texts (runtime/sigtab_linux_generic.go).",
        "Generated by scripts/gen_go_tables.py; do not edit.",
        '"""',
        "",
        "from port.arch import MACHINE",
        "",
        "ERRORS = {",
        *(f"    {n}: {json.dumps(s)}," for n, s in sorted(shared.items())),
        "}",
        "",
        "ERRORS_OWN = {",
        *(f"    {json.dumps(m)}: {{{', '.join(f'{n}: {json.dumps(s)}' for n, s in sorted(t.items()))}}},"
          for m, t in own.items()),
        "}",
        "ERRORS.update(ERRORS_OWN[MACHINE])",
        "",
        "SIGNALS = {",
        *(f"    {n}: {json.dumps(s)}," for n, s in sorted(signals.items())),
        "}",
        "",
        "CRASHES = {",
        *(f"    {n}: {json.dumps(s)}," for n, s in sorted(crashes.items())),
        "}",
        "",
    ]  # fmt: skip
    return "\n".join(lines)


def literal(value) -> str:
    """A row's value as Python source, spelled as ruff format spells it."""
    if isinstance(value, tuple):
        return f"({', '.join(map(literal, value))})"
    return json.dumps(value)


def render_arch(rows: dict[str, dict], version: str) -> str:
    lines = [
        f'"""The port\'s architecture-dependent values, per Linux machine name (uname -m), from {version}\'s',
        "sources: syscall/zsysnum_linux_<arch>.go, zerrors_, ztypes_, syscall_linux_<arch>.go, exec_linux.go",
        "and runtime/defs_linux_<arch>.go (see scripts/gen_go_tables.py). A layout is (offset, size) in bytes.",
        "port/arch.py picks this machine's row.",
        "",
        "Generated by scripts/gen_go_tables.py; do not edit.",
        '"""',
        "",
        "ARCHES = {",
    ]
    for machine, row in rows.items():
        lines.append(f"    {json.dumps(machine)}: {{")
        lines += [f"        {json.dumps(k)}: {literal(v)}," for k, v in row.items()]
        lines.append("    },")
    lines += ["}", ""]
    return "\n".join(lines)


def generate(src: Path, version: str) -> dict[Path, str]:
    """Return each generated file's text."""
    sources = {goarch: (src / f"syscall/zerrors_linux_{goarch}.go").read_text() for goarch in MACHINES}
    errors = {goarch: read_table(source, "errors") for goarch, source in sources.items()}
    signals = {goarch: read_table(source, "signals") for goarch, source in sources.items()}
    assert all(table == signals["amd64"] for table in signals.values()), "the signal texts differ per architecture"
    rows = {machine: arch_row(src, goarch) for goarch, machine in MACHINES.items()}
    crashes = read_crashes((src / "runtime/sigtab_linux_generic.go").read_text())
    texts = render_texts(errors, signals["amd64"], crashes, version)
    return {OUT: texts, OUT_ARCH: render_arch(rows, version)}
