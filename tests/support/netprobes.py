"""The notes' network claims as probes: own loopback, own ports, own devices,
and a bridge between two shells.

They run after the other probes, before `exit`. In the notes' configuration
nothing inside can change the network namespace (the `net` probe's `ip link
set lo up` is refused), so they see it as the launcher made it; with root
mapped, `net` has already brought lo up. Socket work inside is done by
tests/programs/nethelper.py with the suite's interpreter; the host side (a listener on
the host's loopback, the throw-away namespace holding the bridge, a second
shell from the same launcher) lives in tests/support/netns.py. As in tests/support/probes.py,
whatever a command changes it changes only after checking that the network
namespace is not the host's, and the host side touches only namespaces it
holds and has checked.

tests/support/probes.py puts NETWORK into PROBES, before the exit probe.

The commands are str.format templates over the host baseline and a few
values the host side fills in: `{helper}` (the helper's command line),
`{host_port}` (the host listener's port, chosen by the kernel), `{peer}` and
`{peer_port}` (where the second shell listens), `{host_addrs}`.
"""

import functools
import os
import pwd
import signal
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tests.support import netns
from tests.support.launchers import Launcher
from tests.support.probe import Context, Facts, Host, Probe, field_of, own
from tests.support.shell import ShellSession


class _HostSide:
    """What the host side of the probe under way holds: one listener, one bridge.

    The hooks open and close them (`before`, `after`); `text` only reads them.
    """

    listener: netns.HostListener | None = None
    bridge: "Bridge | None" = None

    def fresh_listener(self) -> None:
        self.close_listener()
        self.listener = netns.HostListener()

    def close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def values(self) -> dict[str, object]:
        """The host side's part of a probe's text."""
        return {
            "host_port": self.listener.port if self.listener else 0,
            "peer": self.bridge.peer_addr if self.bridge else "none",
            "peer_port": self.bridge.peer_port if self.bridge else 0,
        }


HOST = _HostSide()


@functools.cache
def _host_addrs() -> str:
    return " ".join(netns.host_addresses())


@dataclass(frozen=True)
class NetProbe(Probe):
    """A probe whose text also names the host side's listener and peer."""

    def text(self, host: Host) -> str:
        return self.command.format(ns=host.ns, hostname=host.hostname, helper=netns.HELPER_CMD,
                                   host_addrs=_host_addrs(), **HOST.values())  # fmt: skip


def fresh_listener(ctx: Context) -> None:
    """A new listener for each probe, so that no earlier connection is counted."""
    HOST.fresh_listener()


def close_listener(ctx: Context) -> None:
    HOST.close_listener()


def look_listener(ctx: Context) -> str:
    got = HOST.listener.got_connection()
    ctx.scratch["host's listener got a connection"] = got
    return f"host's listener on 127.0.0.1:{HOST.listener.port}: {'a connection' if got else 'nothing'} in its backlog"


def looked(ctx: Context, *keys: str) -> Facts:
    """Facts that the host-side hooks record (absent where a hook did not run)."""
    return {k: ctx.scratch[k] for k in keys if k in ctx.scratch}


# --- own loopback -----------------------------------------------------------

LOOPBACK = r"""ns=$(readlink /proc/self/ns/net); echo "net ns: $ns"
echo "lo: $(ip -br addr show dev lo)"
if [ "$ns" = '{ns[net]}' ]; then echo "lo up: skipped, the network namespace is the host's"
else echo "lo up: $(ip link set lo up 2>&1 && echo allowed)"; fi
echo "lo after: $(ip -br addr show dev lo)"
{helper} loopback {host_port}
"""


def _brief(raw: str, label: str) -> tuple[str, str]:
    """(state, addresses) from `ip -br addr` ("lo UNKNOWN 127.0.0.1/8 ::1/128")."""
    _, state, *addrs = field_of(raw, label).split() or ["", ""]
    return state, " ".join(addrs) or "none"


def _each(raw: str, label: str) -> list[str]:
    """Every value printed as "label: value", in order."""
    return [line[len(label) + 2 :].strip() for line in raw.splitlines() if line.startswith(label + ": ")]


def loopback_facts(raw: str, ctx: Context) -> Facts:
    return {
        "network namespace": own(field_of(raw, "net ns"), ctx.host.ns["net"]),
        "lo": _brief(raw, "lo")[0],
        "lo's addresses": _brief(raw, "lo")[1],
        "bringing lo up inside": field_of(raw, "lo up"),
        "lo's addresses after": _brief(raw, "lo after")[1],
        "127.0.0.1 inside (listen, connect)": field_of(raw, "127.0.0.1 inside"),
        "connect to the host's 127.0.0.1 listener": field_of(raw, "host's listener"),
        **looked(ctx, "host's listener got a connection"),
    }


# --- own ports --------------------------------------------------------------

PORTS = r"""echo "net ns: $(readlink /proc/self/ns/net)"
{helper} ports {host_port}
"""


def ports_facts(raw: str, ctx: Context) -> Facts:
    return {
        "network namespace": own(field_of(raw, "net ns"), ctx.host.ns["net"]),
        "bind the host's port on 0.0.0.0": field_of(raw, "same port on 0.0.0.0"),
        "listen on the host's port on 127.0.0.1": field_of(raw, "same port on 127.0.0.1"),
        "connect to 127.0.0.1 on that port": field_of(raw, "connect to 127.0.0.1 on that port"),
        **looked(ctx, "host's listener got a connection"),
    }


# --- own devices ------------------------------------------------------------

DEVICES_MADE = ("nsprobe0", "nsprobe1")  # made by DEVICES only after the check that the namespace is not the host's

DEVICES = r"""ns=$(readlink /proc/self/ns/net); echo "net ns: $ns"
if [ "$ns" = '{ns[net]}' ]; then echo "add veth: skipped, the network namespace is the host's"
else echo "add veth: $(ip link add nsprobe0 type veth peer name nsprobe1 2>&1 && echo allowed)"; fi
ip -br link | while read -r name rest; do echo "link: ${{name%%@*}}"; done
"""


def look_devices(ctx: Context) -> str:
    names = sorted(p.name for p in Path("/sys/class/net").iterdir())
    ctx.scratch["veth visible on the host"] = any(name in names for name in DEVICES_MADE)
    return " ".join(names)


def devices_facts(raw: str, ctx: Context) -> Facts:
    return {
        "network namespace": own(field_of(raw, "net ns"), ctx.host.ns["net"]),
        "adding a veth pair inside": field_of(raw, "add veth"),
        "links seen": " ".join(_each(raw, "link")),
        **looked(ctx, "veth visible on the host"),
    }


# --- a bridge between two shells --------------------------------------------

BRIDGE = r"""ns=$(readlink /proc/self/ns/net); echo "net ns: $ns"
ip -br link | while read -r name rest; do echo "link: ${{name%%@*}}"; done
ip -br -4 addr show scope global | while read -r name state addrs; do echo "address: ${{name%%@*}} $addrs"; done
if [ "$ns" = '{ns[net]}' ]; then echo "peer answered: skipped, the network namespace is the host's"; {helper} reach {host_port} {host_addrs}
else {helper} talk {peer} {peer_port} + reach {host_port} {host_addrs}; fi
"""


class Bridge:
    """A second shell from the same launcher, joined with the probed shell to a
    bridge in a throw-away namespace; the peer listens for one message."""

    def __init__(self, ctx: Context, host_port: int):
        self.stack = ExitStack()  # the throw-away namespace, then the peer (closed in reverse)
        try:
            os.close(netns.netns_fd(ctx.sh_pid))  # refuses the host's
            scratch = self.stack.enter_context(netns.Scratch())
            # the peer is started exactly as the probed shell's launcher was
            argv = tuple(Path(f"/proc/{ctx.launcher_pid}/cmdline").read_bytes().decode().split("\0")[:-1])
            self.peer = self.stack.enter_context(ShellSession(Launcher("peer", argv, "the same launcher again")))
            self.stack.callback(self._end_peer)
            self.peer_addr = netns.wire(scratch, [ctx.sh_pid, self.peer.sh_pid])[self.peer.sh_pid]
            self.peer.child.sendline(f"{netns.HELPER_CMD} serve {self.peer_addr} + reach {host_port} {_host_addrs()}")
            self.peer.child.expect(r"listening: (\d+)\r?\n")
            self.peer_port = int(self.peer.child.match.group(1))
        except BaseException:
            self.stack.close()
            raise

    def peer_output(self) -> str:
        """What the peer printed after it started listening, up to its prompt."""
        self.peer.child.expect(self.peer.prompt)
        return self.peer.child.before.replace("\r\n", "\n")

    def _end_peer(self) -> None:
        if self.peer.child.isalive():
            self.peer.exit(kill=signal.SIGKILL)  # PID 1 inside: only the host's SIGKILL ends it; then EOF

    def close(self) -> None:
        self.stack.close()


# What only a wired bridge can show: not run when the host could not wire it.
WIRED = ("wiring", "the peer's answer", "the peer got", "host's addresses from the peer")


def _who() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def start_bridge(ctx: Context) -> None:
    fresh_listener(ctx)
    if not ctx.sh_pid:  # the host column: the host's own namespace is never wired
        ctx.scratch["wiring"] = "skipped, the network namespace is the host's"
        return
    try:
        HOST.bridge = Bridge(ctx, HOST.listener.port)
        ctx.scratch["wiring"] = "by the test, from the host: veth pairs to a bridge in a throw-away namespace"
    except netns.HostNamespaceError:
        ctx.scratch["wiring"] = "skipped, the network namespace is the host's"
    except Exception as e:  # noqa: BLE001 - the probe's host side could not do its part: not run, and why
        error = str(e).splitlines()[0]
        if os.geteuid() != 0:
            reason = f"as {_who()}: wiring the bridge needs root on the host: {error}"
        else:
            reason = f"the host could not wire the bridge: {error}"
        ctx.skip(reason, *WIRED)


def look_bridge(ctx: Context) -> str:
    seen = look_listener(ctx)
    if HOST.bridge is None:
        return seen
    out = HOST.bridge.peer_output()
    ctx.scratch["peer got"] = field_of(out, "got")
    ctx.scratch["host's addresses from the peer"] = field_of(out, "host's addresses")
    return f"{seen}\n--- the peer shell\n{out}"


def stop_bridge(ctx: Context) -> None:
    if HOST.bridge is not None:
        HOST.bridge.close()
        HOST.bridge = None
    HOST.close_listener()


def bridge_facts(raw: str, ctx: Context) -> Facts:
    unwired = {k: None for k in WIRED if k in ctx.not_run}  # the host could not wire it: not run
    return {
        "network namespace": own(field_of(raw, "net ns"), ctx.host.ns["net"]),
        **({"wiring": None} if "wiring" in ctx.not_run else looked(ctx, "wiring")),
        "links seen": " ".join(_each(raw, "link")),
        "global addresses": ", ".join(_each(raw, "address")) or "none",
        "the peer's answer": field_of(raw, "peer answered"),
        **({"the peer got": ctx.scratch["peer got"]} if "peer got" in ctx.scratch else {}),
        "the host's addresses from the shell": field_of(raw, "host's addresses"),
        **looked(ctx, "host's addresses from the peer", "host's listener got a connection"),
        **unwired,
    }


NETWORK = [
    NetProbe("loopback", LOOPBACK, loopback_facts,
             "own lo: down, no address; brought up (if allowed) 127.0.0.1 works; the host's is not reached",
             on_host=True, before=fresh_listener, look=look_listener, after=close_listener),
    NetProbe("ports", PORTS, ports_facts,
             "the port the host's listener holds on 127.0.0.1 is free inside; a connection inside stays inside",
             on_host=True, before=fresh_listener, look=look_listener, after=close_listener),
    NetProbe("devices", DEVICES, devices_facts, "a veth pair made inside (if allowed) is not seen on the host",
             on_host=True, look=look_devices),
    NetProbe("bridge", BRIDGE, bridge_facts,
             "a second shell from the same launcher, bridged by the test: they talk; neither reaches the host",
             on_host=True, before=start_bridge, look=look_bridge, after=stop_bridge),
]  # fmt: skip
