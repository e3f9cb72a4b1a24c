"""SysProcAttr configurations, as data: the same options for both launchers.

Each configuration is a list of launcher options (reference_go/launcher's
spelling, which python -m port.launcher shares), the SysProcAttr fields it
exercises, and how it is checked:

- `probes`: an interactive sh in a pty, run through the probe suite
  (tests/support/probes.py); `expect` gives facts the reference must show.
- `script`: `sh -c SCRIPT` in a pty, its whole transcript compared; `expect`
  gives lines the reference must print. Non-interactive, so sh's own job
  control does not hide what the launcher set (process group, tty).
"""

import os
from dataclasses import dataclass, field

from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY, Launcher

# The chroot holds sh and what ldd says it loads: x86_64's loader lives in /lib64, arm64's (and the
# others') in /lib (seen in make kernels ARCH=arm64's guest).
CHROOT_TOP = "/bin /lib /lib64" if os.uname().machine == "x86_64" else "/bin /lib"

SIX = "uts,ipc,pid,ns,user,net"

# Prints the shell's process group, session, tty and foreground group relative
# to itself and to its parent (the launcher), read from the host's /proc.
STAT = r"""read -r pid comm state ppid pgrp sid tty tpgid rest < /proc/self/stat
read -r lpid lcomm lstate lppid lpgrp lsid ltty ltpgid lrest < /proc/$ppid/stat
rel() { if [ "$1" = "$2" ]; then echo own; elif [ "$1" = "$3" ]; then echo "launcher's"; else echo "other"; fi; }
echo "process group: $(rel $pgrp $pid $lpgrp)"
echo "session: $(rel $sid $pid $lsid)"
set -- $(stat -L -c '%t %T' /proc/self/fd/0)
echo "controlling tty: $(if [ $tty = 0 ]; then echo none; elif [ $tty = $((0x$1 * 256 + 0x$2)) ]; then echo "stdin's"; else echo other; fi)"
echo "foreground group: $(if [ $tpgid = -1 ]; then echo none; else rel $tpgid $pgrp $lpgrp; fi)"
"""
STATUS = r"""while read -r k v; do case $k in Uid:|Gid:|Groups:|CapEff:|CapAmb:) echo "$k $v";; esac; done < /proc/self/status
echo "setgroups: $(cat /proc/self/setgroups)"
"""


@dataclass(frozen=True)
class Config:
    name: str
    options: tuple[str, ...]
    fields: tuple[str, ...]  # the SysProcAttr fields (Python spelling) it proves
    script: str | None = None  # None: the probe suite on an interactive sh
    expect: dict[str, object] | tuple[str, ...] = field(default_factory=dict)
    prefix: tuple[str, ...] = ()  # run the launcher under this (e.g. an outer unshare)
    command: tuple[str, ...] = ("sh",)
    needs: str = ""  # what the test must build first ("chroot", "cgroup")
    root: bool = False  # needs euid 0 on the host (set ids, map host root, steal a tty, mount, cgroups)
    # The launcher writes while the command runs (pidfd), so the two writers'
    # lines interleave either way round, under Go as well: compare them as a set.
    unordered: bool = False
    # Kernel features it needs (tests/support/kernel_features.py): skipped, by the feature's name, without them.
    kernel: tuple[str, ...] = ()

    def launchers(self, extra: tuple[str, ...] = ()) -> tuple[Launcher, Launcher]:
        """The Go and Python launchers with these options, as suite entries."""
        tail = (*self.options, *extra, "--", *self.command) + (("-c", self.script) if self.script else ())
        go = Launcher(f"go:{self.name}", (*self.prefix, *LAUNCHER_GO.argv, *tail), "", reference=True)
        py = Launcher(f"py:{self.name}", (*self.prefix, *LAUNCHER_PY.argv, *tail), "")
        return go, py


CONFIGS = [
    Config("notes", ("--clone", SIX), ("cloneflags",),
           expect={"namespaces": {"uts": "own", "ipc": "own", "mnt": "own", "net": "own", "pid": "own", "user": "own"}}),
    Config("root-mapped", ("--clone", SIX, "--uid-map", "0:0:1", "--gid-map", "0:0:1"),
           ("uid_mappings", "gid_mappings", "gid_mappings_enable_setgroups"),
           expect={"id": {"id": "uid=0(root) gid=0(root) groups=0(root)", "uid_map": "0 0 1", "setgroups": "deny"},
                   "hostname": {"setting the name": "allowed", "name after": "nsprobe-inside",
                                "host's name after": "unchanged"},
                   "proc": {"mounting proc": "allowed", "/proc lists only the namespace": True,
                            "ps lists only the namespace": True},
                   # root inside may configure its own network namespace; the host's stays out of reach
                   "loopback": {"bringing lo up inside": "allowed", "127.0.0.1 inside (listen, connect)": "reached its own listener",
                                "connect to the host's 127.0.0.1 listener": "connection refused",
                                "host's listener got a connection": False},
                   "ports": {"listen on the host's port on 127.0.0.1": "bound",
                             "connect to 127.0.0.1 on that port": "reached its own listener",
                             "host's listener got a connection": False},
                   "devices": {"adding a veth pair inside": "allowed", "veth visible on the host": False},
                   "bridge": {"the peer's answer": "hello back", "the peer got": "hello from the other shell"}},
           root=True, kernel=("veth_links",)),
    Config("setgroups-allow", ("--clone", "user", "--uid-map", "0:0:1", "--gid-map", "0:0:1", "--setgroups", "allow"),
           ("gid_mappings_enable_setgroups",), STATUS, ("setgroups: allow", "Uid: 0\t0\t0\t0"), root=True,
           kernel=("setgroups_file",)),
    Config("unmapped-user-ns", ("--clone", "user"), ("cloneflags",), STATUS, ("Uid: 65534\t65534\t65534\t65534",)),
    Config("credential-mapped", ("--clone", "user", "--uid-map", "0:0:2", "--gid-map", "0:0:2", "--credential", "1:1"),
           ("credential",), STATUS, ("Uid: 1\t1\t1\t1", "Gid: 1\t1\t1\t1", "Groups: ", "setgroups: deny"), root=True),
    Config("credential-groups", ("--credential", "65534:65534:4,5"), ("credential",), STATUS,
           ("Uid: 65534\t65534\t65534\t65534", "Groups: 4 5"), root=True),
    # the launcher starts with supplementary group 7: setgroups clears it unless NoSetGroups
    Config("credential-sets-groups", ("--credential", "65534:65534"), ("credential",), STATUS,
           ("Uid: 65534\t65534\t65534\t65534", "Groups: \n"), prefix=("setpriv", "--groups", "7"), root=True),
    Config("credential-no-setgroups", ("--credential", "65534:65534", "--no-setgroups"), ("credential",), STATUS,
           ("Uid: 65534\t65534\t65534\t65534", "Groups: 7"), prefix=("setpriv", "--groups", "7"), root=True),
    Config("credential-unmapped-fails", ("--clone", "user", "--credential", "1:1"), ("credential",), STATUS,
           ("fork/exec /usr/bin/sh: operation not permitted",)),
    Config("setsid", ("--setsid",), ("setsid",), STAT,
           ("process group: own", "session: own", "controlling tty: none", "foreground group: none")),
    Config("setpgid", ("--setpgid",), ("setpgid",), STAT,
           ("process group: own", "session: launcher's", "controlling tty: stdin's")),
    Config("setpgid-join", ("--setpgid", "--pgid", "$LAUNCHER_PGRP"), ("setpgid", "pgid"), STAT,
           ("process group: launcher's",)),
    Config("foreground", ("--foreground", "--ctty", "0"), ("foreground", "ctty"), STAT,
           ("process group: own", "controlling tty: stdin's", "foreground group: own")),
    Config("setctty", ("--setsid", "--setctty", "--ctty", "0"), ("setctty", "ctty"), STAT,
           ("process group: own", "session: own", "controlling tty: stdin's", "foreground group: own"), root=True),
    Config("noctty", ("--noctty",), ("noctty",), STAT, ("session: launcher's", "controlling tty: none")),
    Config("setctty-and-foreground", ("--setsid", "--setctty", "--foreground"), ("setctty", "foreground"), STAT,
           ("fork/exec /usr/bin/sh: both Setctty and Foreground set in SysProcAttr",)),
    Config("unshare-ns", ("--unshare", "ns"), ("unshareflags",),
           expect={"mount": {"mount namespace": "own", "propagation of /": "private", "mounting tmpfs": "allowed",
                             "tmpfs leaked to the host": False}},
           prefix=("unshare", "--mount", "--propagation", "shared"), root=True),
    Config("clone-ns-shared", ("--clone", "ns"), ("cloneflags",),
           expect={"mount": {"mount namespace": "own", "propagation of /": "shared",
                             "mounting tmpfs": "skipped, / would propagate to the host"}},
           prefix=("unshare", "--mount", "--propagation", "shared"), root=True),
    # a user namespace makes the mount namespace less privileged: shared mounts turn into slaves
    Config("clone-user-ns-shared", ("--clone", "user,ns"), ("cloneflags",),
           expect={"mount": {"mount namespace": "own", "propagation of /": "slave", "tmpfs leaked to the host": False}},
           prefix=("unshare", "--mount", "--propagation", "shared"), root=True),
    Config("unshare-user-maps", ("--unshare", "user", "--uid-map", "0:0:1", "--gid-map", "0:0:1"),
           ("unshareflags", "uid_mappings", "gid_mappings"), STATUS, ("Uid: 0\t0\t0\t0", "setgroups: deny"), root=True),
    Config("cgroup-time", ("--clone", "user,cgroup,time"), ("cloneflags",),
           expect={"namespaces": {"cgroup": "own", "time": "own", "time_for_children": "own", "user": "own"}},
           kernel=("time_ns",)),
    Config("ambient", ("--credential", "65534:65534", "--ambient-caps", "net_raw,net_bind_service"),
           ("ambient_caps",), STATUS, ("Uid: 65534\t65534\t65534\t65534", "CapEff: 0000000000002400",
                                       "CapAmb: 0000000000002400"), root=True),
    Config("pidfd", ("--clone", "user", "--pidfd"), ("pid_fd",), "echo started", ("pidfd: ok", "started"),
           unordered=True, kernel=("pidfd_open",)),
    Config("ptrace", ("--ptrace",), ("ptrace",), "echo traced", ("ptrace: stopped (trace/breakpoint trap)", "traced")),
    Config("chroot", ("--chroot", "$CHROOT"), ("chroot",), 'echo /*; cd /bin && echo "$PWD"', (CHROOT_TOP,),
           command=("/bin/sh",), needs="chroot", root=True),
    Config("cgroup", ("--cgroup", "$CGROUP"), ("use_cgroup_fd", "cgroup_fd"), "cat /proc/self/cgroup | grep '^0::'",
           ("0::/nsport-test",), needs="cgroup", root=True, kernel=("clone_into_cgroup",)),
]  # fmt: skip
BY_NAME = {c.name: c for c in CONFIGS}
