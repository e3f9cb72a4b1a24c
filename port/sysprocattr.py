"""Mirror Go's Linux syscall.SysProcAttr, Credential and SysProcIDMap.

Field order and meaning follow Go's syscall/exec_linux.go and exec_unix.go;
names are Go's, converted mechanically to snake_case (Unshareflags is one
word in Go, so it is `unshareflags`). Each comment says what the field
becomes in the child; port/exec_linux.py carries it out in Go's order.
"""

# Go: syscall/exec_linux.go (the kernel's values), the same on every architecture
# (tests/test_arch_tables.py checks them against each GOARCH's).
CLONE_NEWTIME = 0x80
CLONE_VM = 0x100
CLONE_PIDFD = 0x1000
CLONE_VFORK = 0x4000
CLONE_NEWNS = 0x20000
CLONE_NEWCGROUP = 0x2000000
CLONE_NEWUTS = 0x4000000
CLONE_NEWIPC = 0x8000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_INTO_CGROUP = 0x200000000

# The namespace names the launchers' --clone/--unshare options take.
NAMESPACES = {
    "uts": CLONE_NEWUTS,
    "ipc": CLONE_NEWIPC,
    "pid": CLONE_NEWPID,
    "ns": CLONE_NEWNS,
    "user": CLONE_NEWUSER,
    "net": CLONE_NEWNET,
    "cgroup": CLONE_NEWCGROUP,
    "time": CLONE_NEWTIME,
}


class Record:
    """A plain record: fields are the annotated class attributes, whose values
    are the defaults; positional arguments follow their order.

    Not a dataclass: importing dataclasses (and so inspect) would add about
    13 ms to every start of the notes program. Defaults are immutable; a field
    that holds a list gets a new one when set.
    """

    def __init__(self, *args, **kwargs):
        names = list(self.__annotations__)
        if len(args) > len(names) or set(kwargs) - set(names) or set(names[: len(args)]) & set(kwargs):
            raise TypeError(f"{type(self).__name__}: bad fields {args} {kwargs}")
        self.__dict__.update(zip(names, args, strict=False), **kwargs)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class SysProcIDMap(Record):  # Go: syscall.SysProcIDMap
    container_id: int = 0  # first id inside the user namespace
    host_id: int = 0  # first id outside it
    size: int = 0  # how many ids the line maps

    def line(self) -> str:
        """Return the uid_map/gid_map line, formatted as Go formats it."""
        return f"{self.container_id} {self.host_id} {self.size}\n"


class Credential(Record):  # Go: syscall.Credential
    uid: int = 0  # setuid(2), after setgid
    gid: int = 0  # setgid(2), after setgroups
    groups: list[int] | None = None  # setgroups(2); None or [] clears the list
    no_set_groups: bool = False  # skip setgroups(2) entirely


class SysProcAttr(Record):  # Go: syscall.SysProcAttr (Linux)
    chroot: str = ""  # chroot(2) after unshare, before credentials
    credential: Credential | None = None  # setgroups(2), setgid(2), setuid(2)
    ptrace: bool = False  # ptrace(PTRACE_TRACEME) just before execve(2)
    setsid: bool = False  # setsid(2): new session, no controlling tty
    setpgid: bool = False  # setpgid(0, pgid)
    setctty: bool = False  # ioctl(ctty, TIOCSCTTY, 1); ctty is a child fd
    noctty: bool = False  # ioctl(0, TIOCNOTTY) after the fd shuffle
    ctty: int = 0  # tty fd for setctty (child numbering) or foreground (parent)
    foreground: bool = False  # setpgid(2) then ioctl(ctty, TIOCSPGRP)
    pgid: int = 0  # process group for setpgid; 0 means the child's pid
    pdeathsig: int = 0  # prctl(PR_SET_PDEATHSIG) when the parent dies
    cloneflags: int = 0  # clone(2) flags; fork strategies: unshare(2), a 2nd fork for NEWPID/NEWTIME
    unshareflags: int = 0  # unshare(2) in the child; NEWNS adds a private /
    uid_mappings: list[SysProcIDMap] | None = None  # the parent writes /proc/PID/uid_map
    gid_mappings: list[SysProcIDMap] | None = None  # the parent writes /proc/PID/gid_map
    gid_mappings_enable_setgroups: bool = False  # "allow", else "deny", to /proc/PID/setgroups
    ambient_caps: tuple[int, ...] = ()  # capset(2), PR_CAP_AMBIENT
    use_cgroup_fd: bool = False  # clone3(CLONE_INTO_CGROUP); fork strategies: a write to cgroup.procs
    cgroup_fd: int = 0  # the cgroup directory fd for use_cgroup_fd
    pid_fd: list[int] | None = None  # clone(CLONE_PIDFD) into [0] (Go: *int); fork strategies: pidfd_open(2)
