"""The notes' network claims across two shells and past a shell's end.

- a bridge between two launched shells (Go and Go, Python and Python, Go and
  Python): the test joins them by veth pairs to a bridge in a throw-away
  namespace, they talk over TCP, and neither reaches the host's addresses;
- a device inside a shell's namespace is gone when the shell exits: its veth
  peer, kept in the throw-away namespace, disappears with it.

The wiring is done from the host (tests/support/netns.py), as a container runtime
does: in the notes' configuration the shell has no capabilities and cannot
configure its own links. The host guard checks that no link or address was
added to the host.
"""

import ipaddress
import os
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support import netns, parity
from tests.support.configs import BY_NAME
from tests.support.launchers import BROKEN, GO, PY
from tests.support.probes import BY_NAME as BY_PROBE
from tests.support.shell import ShellSession

# nsenter and moving links between namespaces need root on the host (ip and nsenter: make doctor)
pytestmark = [pytest.mark.userns, pytest.mark.root]

ROOT_MAPPED = dict(zip(("go", "py"), BY_NAME["root-mapped"].launchers(), strict=True))
NOTES = {"go": GO, "py": PY}


@pytest.fixture
def scratch():
    if why := netns.missing_link_kinds():
        pytest.skip(why)
    with netns.Scratch() as s:
        yield s


@pytest.fixture
def host_listener():
    listener = netns.HostListener()
    yield listener
    listener.close()


def helper(*args: object) -> str:
    return " ".join([netns.HELPER_CMD, *map(str, args)])


@pytest.mark.parametrize("pair", [(GO, GO), (PY, PY), (GO, PY)], ids=lambda p: f"{p[0].name}-{p[1].name}")
def test_two_shells_on_a_bridge_talk_and_do_not_reach_the_host(pair, scratch, host_listener):
    addrs = netns.host_addresses()
    with ExitStack() as stack:
        server, client = (stack.enter_context(ShellSession(lc)) for lc in pair)
        plan = netns.wire(scratch, [server.sh_pid, client.sh_pid])
        assert sorted(netns.link_names(scratch.fd)) == ["lo", "nsb0", "nsb1", "nsbr0"]

        server.child.sendline(helper("serve", plan[server.sh_pid], "+", "reach", host_listener.port, *addrs))
        server.child.expect(r"listening: (\d+)\r?\n")
        port = server.child.match.group(1)
        said, _ = client.run(helper("talk", plan[server.sh_pid], port, "+", "reach", host_listener.port, *addrs))
        server.child.expect(server.prompt)  # serve's answer and reach, then the prompt
        heard = server.child.before.replace("\r\n", "\n")
        for sh in (client, server):
            sh.exit()  # the launcher reaps its shell and ends; killing it first could orphan a dying shell

    none_reached = f"host's addresses: none of {len(addrs)} reached"
    assert "peer answered: hello back\n" in said, said
    assert "got: hello from the other shell\n" in heard, heard
    assert none_reached in said and none_reached in heard, said + heard
    assert not host_listener.got_connection()


def wait_gone(fd: int, name: str, timeout: float = 10) -> list[str]:
    """The links in fd's namespace once name is gone from them, or at the deadline.

    A namespace is taken apart asynchronously after its last process exits."""
    deadline = time.monotonic() + timeout
    while name in (links := netns.link_names(fd)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return links


@pytest.mark.parametrize("name", ["go", "py"])
def test_device_given_to_the_shell_is_gone_when_it_exits(name, scratch):
    """Notes' configuration: the host moves a veth end in (the shell cannot make one)."""
    with ShellSession(NOTES[name]) as sh:
        assert "Operation not permitted" in sh.run("ip link add nsprobe0 type veth peer name nsprobe1")[0]
        netns.wire(scratch, [sh.sh_pid])
        assert re.findall(r"^\d+: (\w+)", sh.run("ip -o link")[0], re.M) == ["lo", "eth0"]
        assert "nsb0" in netns.link_names(scratch.fd)
        sh.exit()
    assert "nsb0" not in wait_gone(scratch.fd, "nsb0"), "the shell's end outlived its namespace"


@pytest.mark.parametrize("name", ["go", "py"])
def test_device_made_inside_is_gone_when_the_shell_exits(name, scratch):
    """Root mapped: the shell makes the veth pair itself; the host moves one end
    out to watch it, and the end made inside takes it along when it goes."""
    with ShellSession(ROOT_MAPPED[name]) as sh:
        assert sh.run("ip link add nsprobe0 type veth peer name nsprobe1") == ("", 0)
        fd = netns.netns_fd(sh.sh_pid)
        try:
            netns.ip_batch(fd, [f"link set dev nsprobe1 netns /proc/self/fd/{scratch.fd}"], (scratch.fd,))
        finally:
            os.close(fd)
        assert "nsprobe1" in netns.link_names(scratch.fd)
        sh.exit()
    assert "nsprobe1" not in wait_gone(scratch.fd, "nsprobe1"), "the device made inside outlived the shell"


def test_wiring_refuses_the_hosts_namespace():
    with pytest.raises(netns.HostNamespaceError):
        netns.netns_fd(os.getpid())


def test_documentation_range_is_not_the_hosts():
    net = netns.doc_net()
    assert not any(ipaddress.ip_address(a) in net for a in netns.host_addresses())


def test_helper_refuses_an_unknown_check():
    proc = subprocess.run([*netns.HELPER_ARGV, "nope"], capture_output=True, text=True, timeout=10)
    assert proc.returncode == 1
    assert proc.stderr.startswith("usage: nethelper.py ") and proc.stderr.count("\n") == 1


def test_host_guard_sees_an_added_address():
    """The guard's address list, taken inside a throw-away namespace before and after
    an address is added there (the host's own list is never touched)."""
    show = (
        f"{sys.executable} -c 'from tests.support import hostguard; print(hostguard.snapshot()[\"network addresses\"])'"
    )
    script = f"ip link set lo up && {show} && ip addr add 198.51.100.9/32 dev lo && {show}"
    proc = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True, text=True, timeout=30,
                          cwd=Path(__file__).parent.parent)  # fmt: skip
    before, after = proc.stdout.splitlines()
    assert "'127.0.0.1'" in before and "198.51.100.9" not in before, proc.stdout + proc.stderr
    assert "'198.51.100.9'" in after, proc.stdout


def test_a_launcher_without_a_network_namespace_is_caught_and_changes_nothing():
    """The port without CLONE_NEWNET: every network probe sees the difference, and
    none of them touches the host's namespace (the host guard checks the rest)."""
    probes = [BY_PROBE[name] for name in ("loopback", "ports", "devices", "bridge", "exit")]
    rows = {row["name"]: row for row in parity.compare(parity.run_all([GO, BROKEN["NET"]], probes), probes)}
    assert [name for name, row in rows.items() if row["match"]] == ["exit"]
    broken = {name: row["launchers"][BROKEN["NET"].name]["facts"] for name, row in rows.items()}
    assert broken["devices"]["adding a veth pair inside"] == "skipped, the network namespace is the host's"
    assert broken["bridge"]["wiring"] == "skipped, the network namespace is the host's"
