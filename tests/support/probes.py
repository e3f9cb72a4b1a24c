"""The probes, as data: what to type into the shell and how to read the answer.

A probe is a name, the sh text sent to the shell inside the namespaces, and
a reducer from its raw output to the facts that are compared across
launchers. Reducers drop only what legitimately varies from run to run
(host pids, namespace inode numbers, mount ids, peer-group numbers) and keep
every difference a user would notice.

Some probes also look from the host while the shell lives (`look`), or
prepare something on the host first and clean it up after (`before`/
`after`). Most also run on the host itself (`on_host`), for the report's
host column. Commands are str.format templates over the host baseline
(`{ns[uts]}` is the host's UTS namespace), so that a probe never changes the
host even under a launcher that fails to isolate: it only mounts, sets the
hostname or makes an IPC object after checking that it is in its own
namespace.
"""

import errno
import re
import socket
import subprocess
from pathlib import Path

from tests.support import hostguard, procfs
from tests.support.netprobes import NETWORK
from tests.support.probe import NS_FILES, Context, Facts, Probe, field_of, ns_lines, own

# --- hostname ---------------------------------------------------------------

HOSTNAME = r"""echo "name: $(hostname)"
ns=$(readlink /proc/self/ns/uts); echo "uts: $ns"
if [ "$ns" = '{ns[uts]}' ]; then echo "set: skipped, the UTS namespace is the host's"
else echo "set: $(hostname nsprobe-inside 2>&1 && echo allowed)"; fi
echo "name after: $(hostname)"
"""


def hostname_facts(raw: str, ctx: Context) -> Facts:
    after = field_of(raw, "name after")
    return {
        "UTS namespace": own(field_of(raw, "uts"), ctx.host.ns["uts"]),
        "name is the host's": field_of(raw, "name") == ctx.host.hostname,
        "setting the name": field_of(raw, "set"),
        "name after": "host's" if after == ctx.host.hostname else after,
        "host's name after": ctx.scratch.get("host name after", ""),
    }


def look_hostname(ctx: Context) -> str:
    ctx.scratch["host name after"] = "unchanged" if socket.gethostname() == ctx.host.hostname else "CHANGED"
    return socket.gethostname()


# --- pid --------------------------------------------------------------------

PID = r"""echo "\$\$: $$"
echo "pid ns: $(readlink /proc/self/ns/pid)"
echo "/proc/1: $(cat /proc/1/comm 2>&1)"
echo "/proc pids: $(ls /proc | grep -c '^[0-9]')"
echo "/proc/self: $(readlink /proc/self)"
"""
# Not ps: with the host's /proc, procps looks its own (namespace) pid up in it
# and, depending on which host pids happen to exist, lists the host's
# processes or dies with "fatal library error, lookup self". /proc itself
# answers the same on every run.


def _pid_inside(pid: str) -> str:
    """A pid seen inside: 1 and small ones are kept; a host pid varies, so is named."""
    return pid if pid in ("", "1", "2", "3") else "host pid"


def pid_facts(raw: str, ctx: Context) -> Facts:
    count = field_of(raw, "/proc pids")
    return {
        "PID namespace": own(field_of(raw, "pid ns"), ctx.host.ns["pid"]),
        "$$": _pid_inside(field_of(raw, "$$")),
        "/proc/1 is the host's PID 1": field_of(raw, "/proc/1") == ctx.host.pid1,
        "/proc lists more than the namespace": count.isdigit() and int(count) > 3,
        # /proc is the host's, so /proc/self names the reader's *host* pid
        "/proc/self is a host pid": field_of(raw, "/proc/self") not in ("", "1", "2", "3"),
    }


def tree_shape(pid: int, top: bool = True) -> str:
    """The process tree under pid, as pstree draws it but without pids or
    threads, and with the launcher's own name (notes-go, python) as "launcher"."""
    name = "launcher" if top else procfs.comm(pid)
    kids = procfs.children_map().get(pid, [])
    if not kids:
        return name
    inner = [tree_shape(k, top=False) for k in sorted(kids)]
    return f"{name}---" + (inner[0] if len(inner) == 1 else "{" + ", ".join(inner) + "}")


def pstree_facts(raw: str, ctx: Context) -> Facts:
    nspid = ""
    if ctx.sh_pid:
        status = Path(f"/proc/{ctx.sh_pid}/status").read_text()
        ids = re.search(r"^NSpid:\s*(.*)$", status, re.M)[1].split()
        nspid = _pid_inside(ids[-1] if len(ids) > 1 else "host pid")
    return {
        "process tree from the host": ctx.scratch.get("tree", ""),
        "shell's pid inside (NSpid)": nspid,
        "shell's host pid is not 1": ctx.sh_pid not in (0, 1),
    }


def look_pstree(ctx: Context) -> str:
    """Record the tree's shape for the facts; show `pstree -pl` as the raw look."""
    ctx.scratch["tree"] = tree_shape(ctx.launcher_pid)
    return subprocess.run(["pstree", "-pl", str(ctx.launcher_pid)], capture_output=True, text=True).stdout


# --- ipc --------------------------------------------------------------------

IPC = r"""ns=$(readlink /proc/self/ns/ipc); echo "ipc ns: $ns"
echo "queues at start: $(ipcs -q | grep -c '^0x')"
echo "host queue visible: $(ipcs -q | grep -c '^{ipc_key} ')"
if [ "$ns" = '{ns[ipc]}' ]; then echo "make one: skipped, the IPC namespace is the host's"
elif ipcmk -Q >/dev/null 2>&1; then echo "make one: made"; echo "queues after: $(ipcs -q | grep -c '^0x')"
  echo "made key: $(ipcs -q | awk '/^0x/ {{print $1}}')"
else echo "make one: refused"; fi
"""


def make_host_queue(ctx: Context) -> None:
    """A SysV message queue on the host, under this run's own key (hostguard.ipc_key)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    while (msqid := libc.msgget(int(ctx.host.ipc_key, 16), 0o600 | 0o1000 | 0o2000)) < 0:  # IPC_CREAT|IPC_EXCL
        if ctypes.get_errno() != errno.EEXIST:
            raise OSError(ctypes.get_errno(), f"msgget {ctx.host.ipc_key} on the host")
        ctx.host.ipc_key = hostguard.ipc_key()  # another run's key: take a new one
    ctx.scratch["host msqid"] = msqid


def look_host_queues(ctx: Context) -> str:
    ctx.scratch["host queue keys"] = hostguard.sysv_ipc_keys("msg")
    return "\n".join(ctx.scratch["host queue keys"])


def remove_host_queue(ctx: Context) -> None:
    if "host msqid" in ctx.scratch:
        subprocess.run(["ipcrm", "-q", str(ctx.scratch.pop("host msqid"))], check=True)


def ipc_facts(raw: str, ctx: Context) -> Facts:
    made = field_of(raw, "made key")
    return {
        "IPC namespace": own(field_of(raw, "ipc ns"), ctx.host.ns["ipc"]),
        # the host's namespace always holds the probe's own queue at this point
        "no queues at start": field_of(raw, "queues at start") == "0",
        "host's queue visible inside": field_of(raw, "host queue visible") != "0",
        "making a queue inside": field_of(raw, "make one"),
        "queues inside after": field_of(raw, "queues after") or "-",
        "inside queue visible on the host": bool(made) and made in ctx.scratch.get("host queue keys", []),
    }


# --- mount ------------------------------------------------------------------

MOUNT = r"""ns=$(readlink /proc/self/ns/mnt); echo "mnt ns: $ns"
echo "root propagation: $(awk '$5 == "/" {{o = ""; for (i = 7; $i != "-"; i++) o = o " " $i; p = o}} END {{print p}}' /proc/self/mountinfo)"
echo "mount points: $(awk '{{print $5}}' /proc/self/mountinfo | sort | cksum)"
if [ "$ns" = '{ns[mnt]}' ]; then echo "mount tmpfs: skipped, the mount namespace is the host's"
elif awk '$5 == "/" && / shared:/ {{found = 1}} END {{exit !found}}' /proc/self/mountinfo; then echo "mount tmpfs: skipped, / would propagate to the host"
else echo "mount tmpfs: $(mount -t tmpfs nsprobe /mnt 2>&1 && echo allowed)"; fi
echo "nsprobe mounted inside: $(grep -c ' nsprobe ' /proc/self/mountinfo)"
"""


def _propagation(optional_fields: str) -> str:
    """ "shared:1 master:3" -> "shared, slave"; none -> "private"."""
    kinds = {"shared": "shared", "master": "slave", "propagate_from": "slave", "unbindable": "unbindable"}
    found = [kinds.get(f.split(":")[0], f.split(":")[0]) for f in optional_fields.split()]
    return ", ".join(dict.fromkeys(found)) or "private"


def look_host_mounts(ctx: Context) -> str:
    text = Path("/proc/self/mountinfo").read_text()
    ctx.scratch["nsprobe on host"] = " nsprobe " in text
    return "\n".join(line for line in text.splitlines() if " / / " in line)


def _host_mount_points() -> str:
    points = sorted(line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
    out = subprocess.run(["cksum"], input="\n".join(points) + "\n", capture_output=True, text=True)
    return out.stdout.strip()


def mount_facts(raw: str, ctx: Context) -> Facts:
    return {
        "mount namespace": own(field_of(raw, "mnt ns"), ctx.host.ns["mnt"]),
        "propagation of /": _propagation(field_of(raw, "root propagation")),
        "sees the host's mount points": field_of(raw, "mount points") == _host_mount_points(),
        "mounting tmpfs": field_of(raw, "mount tmpfs"),
        "tmpfs mounted inside": field_of(raw, "nsprobe mounted inside") not in ("", "0"),
        "tmpfs leaked to the host": ctx.scratch.get("nsprobe on host", False),
    }


# --- id ---------------------------------------------------------------------

ID = r"""echo "id: $(id)"
echo "user ns: $(readlink /proc/self/ns/user)"
echo "uid_map: $(cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //' | paste -sd,)"
echo "gid_map: $(cat /proc/self/gid_map | tr -s ' ' | sed 's/^ //' | paste -sd,)"
echo "setgroups: $(cat /proc/self/setgroups)"
echo "CapEff: $(awk '/^CapEff/ {{print $2}}' /proc/self/status)"
echo "nested user ns: $(unshare --user true 2>&1 && echo allowed)"
"""


def id_facts(raw: str, ctx: Context) -> Facts:
    return {
        "user namespace": own(field_of(raw, "user ns"), ctx.host.ns["user"]),
        "id": field_of(raw, "id"),
        "uid_map": field_of(raw, "uid_map") or "(none)",
        "gid_map": field_of(raw, "gid_map") or "(none)",
        "setgroups": field_of(raw, "setgroups"),
        "effective capabilities": field_of(raw, "CapEff"),
        "nested user namespace": field_of(raw, "nested user ns"),
    }


# --- net --------------------------------------------------------------------

NET = r"""ns=$(readlink /proc/self/ns/net); echo "net ns: $ns"
echo "links: $(ip -o link | awk -F': ' '{{split($3, a, "state "); split(a[2], s, " "); print $2 "=" s[1]}}' | paste -sd' ')"
if [ "$ns" = '{ns[net]}' ]; then echo "lo up: skipped, the network namespace is the host's"
else echo "lo up: $(ip link set lo up 2>&1 && echo allowed)"; fi"""


def _host_links() -> str:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return " ".join(f"{line.split(': ')[1]}={line.split('state ')[1].split()[0]}" for line in out.splitlines())


def net_facts(raw: str, ctx: Context) -> Facts:
    links = field_of(raw, "links")
    return {
        "network namespace": own(field_of(raw, "net ns"), ctx.host.ns["net"]),
        "links": links,
        "links are the host's": links == _host_links(),
        "bringing lo up": field_of(raw, "lo up"),
    }


# --- namespaces -------------------------------------------------------------

NS = ns_lines(NS_FILES)


def ns_facts(raw: str, ctx: Context) -> Facts:
    return {n: own(field_of(raw, n), ctx.host.ns[n]) for n in NS_FILES}


# --- proc -------------------------------------------------------------------

PROC = r"""if [ "$(readlink /proc/self/ns/mnt)" = '{ns[mnt]}' ]; then echo "mount proc: skipped, the mount namespace is the host's"
elif awk '$5 == "/" && / shared:/ {{found = 1}} END {{exit !found}}' /proc/self/mountinfo; then echo "mount proc: skipped, / would propagate to the host"
elif mount -t proc proc /proc 2>/dev/null; then echo "mount proc: allowed"; echo "ps count: $(ps -e --no-headers | wc -l)"
else echo "mount proc: $(mount -t proc proc /proc 2>&1)"; fi
echo "/proc pids: $(ls /proc | grep -c '^[0-9]')"
"""


def proc_facts(raw: str, ctx: Context) -> Facts:
    procs, ps = field_of(raw, "/proc pids"), field_of(raw, "ps count")
    return {
        "mounting proc": field_of(raw, "mount proc"),
        # the shell, the $(...) subshell and ls: a handful at most
        "/proc lists only the namespace": procs.isdigit() and int(procs) <= 5,
        # ps only once /proc is the namespace's own (see the pid probe)
        "ps lists only the namespace": (ps.isdigit() and int(ps) <= 5) if ps else "-",
    }


# --- signals to PID 1 ------------------------------------------------------

SELF_KILL = r"""kill -KILL $$ 2>&1; kill -TERM $$ 2>&1; echo "survived: yes"
"""


def signal_facts(raw: str, ctx: Context) -> Facts:
    return {"shell survives kill -KILL $$ and kill -TERM $$": field_of(raw, "survived") == "yes"}


# --- the end ----------------------------------------------------------------

EXIT = "exit 3"


def exit_facts(raw: str, ctx: Context) -> Facts:
    return {
        "printed at start": ctx.scratch.get("banner", ""),
        "printed when the shell ends": raw,
        "launcher's exit status": ctx.scratch.get("exit status"),
    }


PROBES = [
    Probe("hostname", HOSTNAME, hostname_facts, "read the name, try to set it, check the host's",
          on_host=True, look=look_hostname),
    Probe("pid", PID, pid_facts, "$$, and what the host's /proc, still mounted, shows", on_host=True),
    Probe("pstree", ":", pstree_facts, "the launcher's process tree seen from the host (pstree -pl)",
          look=look_pstree),
    Probe("ipc", IPC, ipc_facts,
          "a queue made on the host is not seen inside; one made inside is not seen on the host",
          on_host=True, before=make_host_queue, look=look_host_queues, after=remove_host_queue),
    Probe("mount", MOUNT, mount_facts, "the mounts seen, / propagation, whether a mount is allowed or leaks",
          on_host=True, look=look_host_mounts),
    Probe("id", ID, id_facts, "who the shell is, its maps and capabilities", on_host=True),
    Probe("net", NET, net_facts, "ip link: the links seen, whether lo can be brought up", on_host=True),
    Probe("namespaces", NS, ns_facts, "readlink /proc/self/ns/* against the host's", on_host=True),
    Probe("proc", PROC, proc_facts, "mount a new /proc, then it and ps show only the namespace (if allowed)"),
    Probe("signals", SELF_KILL, signal_facts, "PID 1 ignores signals it has no handler for, even its own"),
    *NETWORK,  # the network claims: tests/support/netprobes.py
    Probe("exit", EXIT, exit_facts, "what the launcher prints first and last, and its exit status",
          ends_session=True),
]  # fmt: skip
BY_NAME = {probe.name: probe for probe in PROBES}
