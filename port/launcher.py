"""Run a command with any SysProcAttr: the twin of reference_go/launcher/main.go.

    python -m port.launcher --clone user,uts --uid-map 0:0:1 -- sh -c 'hostname x'

Same options, same messages, same exit statuses as build/launcher-go (see
its usage text, printed by --help). The Go launcher reads its arguments left
to right and stops at the first one that is not an option, so the arguments
go to a port of the Go parser (parse_args), not to an option library: this is
a launch path, and it imports nothing the kernel calls do not need.
"""

import _signal as signal  # the C module: signal.py wraps everything in enums, ~3 ms a start
import os
import sys

from port import exec, exec_linux, libc, log, runtime
from port.errors import Errno, GoError, PathError
from port.fmt import to_bytes
from port.sysprocattr import NAMESPACES, Credential, SysProcAttr, SysProcIDMap

# nsport's version (pyproject.toml); --version prints it with this Python, Go's twin with its Go.
VERSION = "0.1.0"
MAX_ID = (1 << 32) - 1
MAX_INT = (1 << 31) - 1
CAP_NAMES = (
    "chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap linux_immutable "
    "net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module sys_rawio "
    "sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time "
    "sys_tty_config mknod lease audit_write audit_control setfcap mac_override mac_admin syslog "
    "wake_alarm block_suspend audit_read perfmon bpf checkpoint_restore"
).split()
SIGNALS = {
    "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
    "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16,
    "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24,
    "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
}  # fmt: skip
# The Go launcher's usage text, byte for byte (tests compare the two --help outputs).
USAGE = """Usage: launcher [OPTIONS] [--] COMMAND [ARG...]

Arguments are read left to right. "--" ends the options; otherwise the
first argument that does not start with "-" starts the command. Any other
argument starting with "-" is an option (a lone "-" is an unknown option).
Options are long only, but for -h (the same as --help). A value option
takes its value from "--opt=value" (everything after the first "="; may be
empty) or, without "=", from the next argument taken verbatim (even if it
starts with "-").

  --clone LIST          Cloneflags (repeatable, ORed)
  --unshare LIST        Unshareflags (repeatable, ORed)
                        LIST: comma list of uts,ipc,pid,ns,user,net,cgroup,time
  --uid-map C:H:S       append to UidMappings (ContainerID:HostID:Size)
  --gid-map C:H:S       append to GidMappings
  --setgroups allow|deny  GidMappingsEnableSetgroups (default deny=false)
  --credential UID:GID[:G1,G2,...]
                        Credential; "UID:GID" leaves Groups nil,
                        "UID:GID:" sets Groups to an empty list
  --no-setgroups        Credential.NoSetGroups=true (needs --credential)
  --setsid              Setsid
  --setpgid             Setpgid
  --pgid N              Pgid (does not imply --setpgid)
  --setctty             Setctty
  --noctty              Noctty
  --ctty N              Ctty
  --foreground          Foreground
  --ptrace              Ptrace; report the exec stop, detach, then wait
  --pdeathsig SIG       Pdeathsig; a name with or without SIG (TERM,
                        SIGKILL, ...) or 1-64
  --chroot DIR          Chroot
  --ambient-caps LIST   AmbientCaps (repeatable, appended); comma list of
                        capability names without CAP_ (net_raw, ...) or 0-63
  --cgroup DIR          open DIR, set UseCgroupFD=true and CgroupFD
  --pidfd               set PidFD; after start print "pidfd: ok" or
                        "pidfd: none" on stderr
  --dir DIR             working directory of the command (cmd.Dir)
  --strategy S          how the Python port starts the command: subreaper,
                        relay or raw-clone (default); Go checks and ignores it
  --help, -h            print this text on stdout and exit 0
  --version             print nsport's version and which twin this is (Go
                        or Python, with its version) on stdout; exit 0

Names (namespaces, signals, capabilities) match ignoring ASCII case.
Numbers are one or more ASCII digits: ids and map fields up to 4294967295,
N up to 2147483647. List items are not trimmed; an empty item is unknown.
Options that are not repeatable keep their last value.

Errors in the arguments print one line "launcher: MESSAGE" on stderr and
exit 2 (an unknown option adds "(--help lists the options)"). The first
bad argument wins; then --no-setgroups without --credential; then a
missing command; then opening the --cgroup DIR. If starting or waiting
for the command fails (including a non-zero exit) the error is logged
with the standard logger, in Go's words (the Python twin prints the
same), and the exit status is 1; otherwise the exit status is 0.
"""
__WALL = 0x40000000
PTRACE_DETACH = 17


class UsageError(Exception):
    """A bad command line: "launcher: MESSAGE" on stderr, exit 2."""


class Config:
    """Everything the command line asks for (Go: config)."""

    def __init__(self):
        self.attr = SysProcAttr()
        self.no_set_groups = False
        self.pidfd = False
        self.cgroup_dir: str | None = None
        self.dir = ""
        self.strategy = exec_linux.RAW_CLONE  # port-only: Go checks --strategy and ignores it
        self.argv: list[str] = []


def _ascii_lower(s: str) -> str:
    """Fold only ASCII letters, as Go's launcher does (the Kelvin sign stays)."""
    return s.translate({c: c + 32 for c in range(ord("A"), ord("Z") + 1)})


def _num(s: str, limit: int) -> int | None:
    """One or more ASCII digits with a value of at most limit, else None."""
    if not s or not all("0" <= ch <= "9" for ch in s):
        return None
    n = int(s)
    return n if n <= limit else None


def _namespaces(name: str, value: str) -> int:
    flags = 0
    for item in value.split(","):
        if (flag := NAMESPACES.get(_ascii_lower(item))) is None:
            raise UsageError(f'{name}: unknown namespace "{item}"')
        flags |= flag
    return flags


def _id_map(name: str, spec: str) -> SysProcIDMap:
    parts = spec.split(":")
    nums = [_num(p, MAX_ID) for p in parts] if len(parts) == 3 else [None]
    if None in nums:
        raise UsageError(f'{name}: want CONTAINER:HOST:SIZE, got "{spec}"')
    return SysProcIDMap(*nums)


def _credential(name: str, spec: str) -> Credential:
    bad = UsageError(f'{name}: want UID:GID[:G1,G2,...], got "{spec}"')
    parts = spec.split(":")
    if not 2 <= len(parts) <= 3:
        raise bad
    uid, gid = _num(parts[0], MAX_ID), _num(parts[1], MAX_ID)
    if uid is None or gid is None:
        raise bad
    cred = Credential(uid, gid)
    if len(parts) == 3:  # a third field, even empty, is an explicit group list
        groups = [_num(g, MAX_ID) for g in parts[2].split(",")] if parts[2] else []
        if None in groups:
            raise bad
        cred.groups = groups
    return cred


def _int(name: str, value: str) -> int:
    if (n := _num(value, MAX_INT)) is None:
        raise UsageError(f'{name}: want a number, got "{value}"')
    return n


def _signal(name: str, value: str) -> int:
    if (n := _num(value, 64)) is not None and n >= 1:
        return n
    want = _ascii_lower(value).removeprefix("sig")  # SIGTERM, sigterm and TERM alike
    for sig_name, sig in SIGNALS.items():
        if _ascii_lower(sig_name) == want:
            return sig
    raise UsageError(f'{name}: unknown signal "{value}"')


def _caps(name: str, value: str) -> list[int]:
    caps = []
    for item in value.split(","):
        if (n := _num(item, 63)) is None:
            lower = _ascii_lower(item)
            n = CAP_NAMES.index(lower) if lower in CAP_NAMES else None
        if n is None:
            raise UsageError(f'{name}: unknown capability "{item}"')
        caps.append(n)
    return caps


def _setgroups(name: str, value: str) -> bool:
    if value not in ("allow", "deny"):
        raise UsageError(f'{name}: want allow or deny, got "{value}"')
    return value == "allow"


def _strategy(name: str, value: str) -> str:
    if value not in exec_linux.STRATEGIES:
        raise UsageError(f'{name}: want subreaper, relay or raw-clone, got "{value}"')
    return value


def _set(attr: str, value: object):
    return lambda c, _name, _v: setattr(c.attr, attr, value)


def _append(attr: str, parse):
    def apply(c: Config, name: str, v: str) -> None:
        if getattr(c.attr, attr) is None:
            setattr(c.attr, attr, [])
        getattr(c.attr, attr).append(parse(name, v))

    return apply


# name -> (takes a value, apply(config, name, value)); Go: options
OPTIONS = {
    "--clone": (True, lambda c, n, v: setattr(c.attr, "cloneflags", c.attr.cloneflags | _namespaces(n, v))),
    "--unshare": (True, lambda c, n, v: setattr(c.attr, "unshareflags", c.attr.unshareflags | _namespaces(n, v))),
    "--uid-map": (True, _append("uid_mappings", _id_map)),
    "--gid-map": (True, _append("gid_mappings", _id_map)),
    "--setgroups": (True, lambda c, n, v: setattr(c.attr, "gid_mappings_enable_setgroups", _setgroups(n, v))),
    "--credential": (True, lambda c, n, v: setattr(c.attr, "credential", _credential(n, v))),
    "--no-setgroups": (False, lambda c, n, v: setattr(c, "no_set_groups", True)),
    "--setsid": (False, _set("setsid", True)),
    "--setpgid": (False, _set("setpgid", True)),
    "--setctty": (False, _set("setctty", True)),
    "--noctty": (False, _set("noctty", True)),
    "--foreground": (False, _set("foreground", True)),
    "--ptrace": (False, _set("ptrace", True)),
    "--pidfd": (False, lambda c, n, v: setattr(c, "pidfd", True)),
    "--pgid": (True, lambda c, n, v: setattr(c.attr, "pgid", _int(n, v))),
    "--ctty": (True, lambda c, n, v: setattr(c.attr, "ctty", _int(n, v))),
    "--pdeathsig": (True, lambda c, n, v: setattr(c.attr, "pdeathsig", _signal(n, v))),
    "--chroot": (True, lambda c, n, v: setattr(c.attr, "chroot", v)),
    "--ambient-caps": (True, lambda c, n, v: setattr(c.attr, "ambient_caps", (*c.attr.ambient_caps, *_caps(n, v)))),
    "--cgroup": (True, lambda c, n, v: setattr(c, "cgroup_dir", v)),
    "--dir": (True, lambda c, n, v: setattr(c, "dir", v)),
    "--strategy": (True, lambda c, n, v: setattr(c, "strategy", _strategy(n, v))),
    "--help": (False, lambda c, n, v: _raise(ShowHelp)),
    "-h": (False, lambda c, n, v: _raise(ShowHelp)),
    "--version": (False, lambda c, n, v: _raise(ShowVersion)),
}


class ShowHelp(Exception):  # noqa: N818 - a request, not an error (Go: errHelp)
    pass


class ShowVersion(Exception):  # noqa: N818 - a request, not an error (Go: errVersion)
    pass


def _raise(request: type[Exception]) -> None:
    raise request


def parse_args(args: list[str]) -> Config:
    """Go: parseArgs. Options left to right until "--" or the first non-option."""
    c = Config()
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-"):
            break
        name, inline, value = arg.partition("=")
        if name not in OPTIONS:
            raise UsageError(f"unknown option: {name} (--help lists the options)")
        has_value, apply = OPTIONS[name]
        if not has_value and inline:
            raise UsageError(f"option {name} takes no value")
        if has_value and not inline:
            if i + 1 >= len(args):
                raise UsageError(f"option {name} needs a value")
            i += 1
            value = args[i]
        apply(c, name, value)
        i += 1
    c.argv = args[i:]
    if c.no_set_groups and c.attr.credential is None:
        raise UsageError("--no-setgroups needs --credential")
    if c.no_set_groups:
        c.attr.credential.no_set_groups = True
    if not c.argv:
        raise UsageError("no command given")
    return c


def run(c: Config) -> None:
    """Go: main, after parsing. Never returns."""
    attr = c.attr
    if c.cgroup_dir is not None:
        try:
            attr.cgroup_fd = os.open(c.cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as e:
            runtime.write(2, to_bytes(f"launcher: --cgroup: {PathError('open', c.cgroup_dir, Errno(e.errno))}\n"))
            os._exit(2)
        attr.use_cgroup_fd = True
    if c.pidfd:
        attr.pid_fd = [-1]

    cmd = exec.Command(c.argv[0], *c.argv[1:])
    cmd.dir = c.dir
    cmd.sys_proc_attr = attr
    cmd.strategy = c.strategy  # port-only: not in Go
    cmd.stdin, cmd.stdout, cmd.stderr = 0, 1, 2
    try:
        cmd.start()
        if c.pidfd:
            report_pidfd(attr.pid_fd[0])
        if attr.ptrace:
            handle_ptrace(cmd.process.pid)
        cmd.wait()
    except GoError as err:
        log.fatal(err)
    os._exit(0)


def report_pidfd(fd: int) -> None:
    """Check that the pidfd refers to the live child, as the Go launcher does."""
    status = "none"
    if fd >= 0:
        try:
            signal.pidfd_send_signal(fd, 0)
            status = "ok"
        except OSError:
            pass
    runtime.write(2, f"pidfd: {status}\n".encode())


def handle_ptrace(pid: int) -> None:
    """Wait for the traced child's exec stop, report it, and let it go."""
    _, status = os.waitpid(pid, __WALL)
    if os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP:
        runtime.write(2, b"ptrace: stopped (trace/breakpoint trap)\n")
    else:
        runtime.write(2, f"ptrace: {exec.process_state_string(status)}\n".encode())
    if os.WIFSTOPPED(status):
        libc.ptrace(PTRACE_DETACH, pid)


def main(args: list[str]) -> None:
    """Go: main. Never returns."""
    try:
        c = parse_args(args)
    except ShowHelp:
        runtime.write(1, USAGE.encode())  # Go: fmt.Print(usage)
        os._exit(0)
    except ShowVersion:
        python = sys.version.split()[0]  # Go: runtime.Version()
        runtime.write(1, f"launcher {VERSION} (nsport): the Python port, Python {python}\n".encode())
        os._exit(0)
    except UsageError as e:
        runtime.write(2, to_bytes(f"launcher: {e}\n"))
        os._exit(2)
    run(c)


if __name__ == "__main__":
    runtime.init()
    main(sys.argv[1:])
