"""The host side of the network probes: a listener on the host's loopback, a
throw-away network namespace, and the wiring of launched shells to a bridge.

Nothing here adds anything to the host's network namespace. Links and
addresses are made only in namespaces the test holds open by file descriptor
(never by a pid that could be reused, never with `ip netns add`, which mounts
on the host): a throw-away namespace (`unshare --net` running `cat`, which
ends when the test closes its stdin), and the launched shells' own
namespaces, each checked to differ from the host's before it is touched.

    with Scratch() as scratch:                  # the bridge lives here
        plan = wire(scratch, [sh1_pid, sh2_pid])   # {pid: address}
"""

import functools
import ipaddress
import os
import shlex
import subprocess
import sys

from tests.support.closing import Closing
from tests.support.paths import PROGRAMS

HELPER = PROGRAMS / "nethelper.py"
# The shell's check: the suite's interpreter, isolated and without site, runs the helper.
HELPER_ARGV = (sys.executable, "-I", "-S", str(HELPER))
HELPER_CMD = shlex.join(HELPER_ARGV)
# Documentation ranges (RFC 5737); the first one no host address is in is used.
DOC_NETS = ("198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24")
TIMEOUT = 5  # seconds for any ip/nsenter call


@functools.cache
def missing_link_kinds() -> str | None:
    """Why the bridge cannot be built here (the kernel lacks veth or bridge links), or None."""
    script = "ip link add nsk0 type veth peer name nsk1 || echo veth; ip link add nsk2 type bridge || echo bridge"
    proc = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True, text=True, timeout=TIMEOUT)
    missing = proc.stdout.split()
    if proc.returncode != 0 or missing:
        return f"the kernel has no {' or '.join(missing) or 'new network namespace'} links: {proc.stderr.strip()}"
    return None


class HostListener:
    """A TCP listener on the host's 127.0.0.1, on a port the kernel picks.

    It never accepts on its own: a connection that reaches it waits in the
    backlog, where `got_connection` finds it.
    """

    def __init__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def got_connection(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self) -> None:
        self.sock.close()


def host_addresses() -> list[str]:
    """The host's own global addresses (IPv4 and IPv6), as `ip` lists them."""
    out = subprocess.run(["ip", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True,
                         check=True, timeout=TIMEOUT).stdout  # fmt: skip
    return [line.split()[3].split("/")[0] for line in out.splitlines()]


def doc_net() -> ipaddress.IPv4Network:
    """A documentation /24 that none of the host's addresses is in."""
    mine = [ipaddress.ip_address(a) for a in host_addresses()]
    for net in map(ipaddress.IPv4Network, DOC_NETS):
        if not any(a in net for a in mine):
            return net
    raise RuntimeError(f"the host uses every documentation range {DOC_NETS}")


class HostNamespaceError(RuntimeError):
    """A process the wiring was about to touch is in the host's network namespace."""


def host_netns() -> str:
    return os.readlink("/proc/self/ns/net")


def netns_fd(pid: int) -> int:
    """Pin the network namespace of pid by an fd; refuse the host's."""
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    if os.readlink(f"/proc/self/fd/{fd}") == host_netns():
        os.close(fd)
        raise HostNamespaceError(f"pid {pid} is in the host's network namespace: not touching it")
    return fd


def ip_batch(fd: int, commands: list[str], extra_fds: tuple[int, ...] = ()) -> None:
    """Run `ip -batch` inside the namespace pinned by fd (/proc/self/fd/N in the commands names others)."""
    proc = subprocess.run(["nsenter", f"--net=/proc/self/fd/{fd}", "ip", "-batch", "-"], input="\n".join(commands),
                          pass_fds=(fd, *extra_fds), capture_output=True, text=True, timeout=TIMEOUT)  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"ip -batch in a namespace: {proc.stderr.strip()}")


def ip_show(fd: int, *args: str) -> str:
    proc = subprocess.run(["nsenter", f"--net=/proc/self/fd/{fd}", "ip", "-o", *args], pass_fds=(fd,),
                          capture_output=True, text=True, timeout=TIMEOUT)  # fmt: skip
    return proc.stdout


def link_names(fd: int) -> list[str]:
    return [line.split(": ")[1].split("@")[0] for line in ip_show(fd, "link").splitlines()]


class Scratch(Closing):
    """A throw-away network namespace: `unshare --net cat`, held by an fd.

    It lives while this object is open; closing its stdin ends `cat`, and the
    namespace goes with its last process and fd (and with it every link in it).
    """

    proc: subprocess.Popen | None = None
    fd: int | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["unshare", "--net", "--", "sh", "-c", "echo unshared; exec cat"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)  # fmt: skip
        if self.proc.stdout.readline() != "unshared\n":
            self.proc.wait(timeout=TIMEOUT)
            said = self.proc.stderr.read().strip().splitlines()  # "unshare: unshare failed: Operation ..."
            why = f" ({said[-1].rsplit(': ', 1)[-1]})" if said else ""
            raise RuntimeError(f"unshare --net did not start{why}")
        self.fd = netns_fd(self.proc.pid)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.proc is None:
            return
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # by the Popen's own pid
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def wire(scratch: Scratch, pids: list[int], net: ipaddress.IPv4Network | None = None) -> dict[int, str]:
    """Join each pid's network namespace to a bridge in scratch; return {pid: address}.

    Done from the host, as a container runtime does: a veth pair per shell is
    made in the scratch namespace, one end joins the bridge, the other moves
    into the shell's namespace, is renamed eth0, gets an address from a
    documentation range and comes up. The shells' own lo is left as it is.
    """
    net = net or doc_net()
    hosts = net.hosts()
    plan = {pid: str(next(hosts)) for pid in pids}
    fds = {pid: netns_fd(pid) for pid in pids}
    try:
        setup = ["link add nsbr0 type bridge", "link set nsbr0 up"]
        for i, pid in enumerate(pids):
            setup += [f"link add nsb{i} type veth peer name nsp{i}", f"link set nsb{i} master nsbr0 up",
                      f"link set dev nsp{i} netns /proc/self/fd/{fds[pid]}"]  # fmt: skip
        ip_batch(scratch.fd, setup, tuple(fds.values()))
        for i, pid in enumerate(pids):
            ip_batch(fds[pid], [f"link set dev nsp{i} name eth0", f"addr add {plan[pid]}/{net.prefixlen} dev eth0",
                                "link set eth0 up"])  # fmt: skip
    finally:
        for fd in fds.values():
            os.close(fd)
    return plan
