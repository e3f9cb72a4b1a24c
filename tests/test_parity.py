"""Every probe: the Go reference and the Python port agree, and both isolate.

One pty session per launcher runs all probes (tests/support/probes.py); the host's
own view is taken with the same commands. A second run must give the same facts. The port runs with its default
start strategy (RAW_CLONE) and with SUBREAPER; RELAY's one difference is
tests/test_regressions_caught.py's. A failing comparison prints both
transcripts side by side.
"""

import os
import subprocess

import pytest

from tests.support import netns, parity
from tests.support.launchers import GO, PY, PY_SUBREAPER
from tests.support.probe import NS_FILES, ns_lines
from tests.support.probes import PROBES

pytestmark = [pytest.mark.userns, pytest.mark.xdist_group("parity-rows")]  # one module fixture: one worker


@pytest.fixture(scope="module")
def results():
    return parity.run_all([GO, PY, PY_SUBREAPER])


@pytest.fixture(scope="module")
def rows(results):
    return {row["name"]: row for row in parity.compare(results)}


def side_by_side(left: str, right: str, width: int = 60) -> str:
    a, b = left.splitlines(), right.splitlines()
    a += [""] * (len(b) - len(a))
    b += [""] * (len(a) - len(b))
    return "\n".join(f"{x[:width]:<{width}} | {y[:width]}" for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("port", [PY, PY_SUBREAPER], ids=lambda p: p.name)
@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_go_and_python_agree(rows, probe, port):
    row = rows[probe.name]
    go, py = row["launchers"]["go"], row["launchers"][port.name]
    assert port.name not in row["differs"], (
        f"probe {probe.name}: facts differ in {row['differs'][port.name]}\n"
        f"go: {go['facts']}\npy: {py['facts']}\n"
        + side_by_side(
            f"--- go (status {go['status']})\n{go['output']}",
            f"--- py (status {py['status']})\n{py['output']}",
        )
    )


def facts(rows, probe: str) -> dict:
    return rows[probe]["launchers"]["go"]["facts"]


# The reference really isolates: for each of the notes' six namespaces, what
# the shell sees differs from the host in the way the namespace promises.


def test_uts_isolated(rows):
    f = facts(rows, "hostname")
    assert f["UTS namespace"] == "own"
    assert f["host's name after"] == "unchanged"


def test_ipc_isolated(rows):
    f = facts(rows, "ipc")
    assert f["IPC namespace"] == "own"
    assert f["host's queue visible inside"] is False
    assert f["making a queue inside"] == "made" and f["queues inside after"] == "1"
    assert f["inside queue visible on the host"] is False


def test_pid_isolated(rows):
    assert facts(rows, "pid")["$$"] == "1"
    assert facts(rows, "pid")["PID namespace"] == "own"
    assert facts(rows, "pstree")["shell's pid inside (NSpid)"] == "1"
    assert facts(rows, "signals")["shell survives kill -KILL $$ and kill -TERM $$"] is True


def test_mount_isolated(rows):
    f = facts(rows, "mount")
    assert f["mount namespace"] == "own"
    assert f["tmpfs leaked to the host"] is False
    assert "shared" not in f["propagation of /"]


def test_user_isolated(rows):
    f = facts(rows, "id")
    assert f["user namespace"] == "own"
    assert f["id"].startswith("uid=65534(nobody)")
    assert f["effective capabilities"] == "0000000000000000"
    assert rows["id"]["host"]["facts"]["id"].startswith(f"uid={os.geteuid()}(")  # the suite's own user


def test_net_isolated(rows):
    f = facts(rows, "net")
    assert f["network namespace"] == "own"
    assert f["links"] == "lo=DOWN"
    assert f["links are the host's"] is False


def test_namespaces_not_asked_for_are_shared(rows):
    f = facts(rows, "namespaces")
    assert {n for n, v in f.items() if v == "own"} == {
        "ipc",
        "mnt",
        "net",
        "pid",
        "pid_for_children",
        "user",
        "uts",
    }


def test_launcher_prints_and_exits_like_the_notes(rows):
    f = facts(rows, "exit")
    assert f["printed at start"] == "main starting...\n"
    assert f["printed when the shell ends"].endswith("YYYY/MM/DD hh:mm:ss exit status 2\n")
    assert f["launcher's exit status"] == 1


# The notes' network claims (tests/support/netprobes.py), in the notes' configuration:
# uid 65534 without capabilities, so the shell cannot configure its network
# namespace, yet it is its own: nothing of the host's is reachable or taken.


def test_own_loopback(rows):
    f = facts(rows, "loopback")
    assert (f["lo"], f["lo's addresses"]) == ("DOWN", "none")
    assert f["bringing lo up inside"] == "RTNETLINK answers: Operation not permitted"
    assert f["127.0.0.1 inside (listen, connect)"] == "network is unreachable"
    assert f["connect to the host's 127.0.0.1 listener"] == "network is unreachable"
    assert f["host's listener got a connection"] is False
    host = rows["loopback"]["host"]["facts"]
    assert host["connect to the host's 127.0.0.1 listener"] == "connected"
    assert host["host's listener got a connection"] is True


def test_own_ports(rows):
    f = facts(rows, "ports")
    assert f["bind the host's port on 0.0.0.0"] == "bound"
    assert f["host's listener got a connection"] is False
    host = rows["ports"]["host"]["facts"]
    assert host["bind the host's port on 0.0.0.0"] == "address already in use"
    assert host["listen on the host's port on 127.0.0.1"] == "address already in use"


def test_own_devices(rows):
    f = facts(rows, "devices")
    assert f["adding a veth pair inside"] == "RTNETLINK answers: Operation not permitted"
    assert f["links seen"] == "lo"
    assert f["veth visible on the host"] is False


def test_bridge_between_two_shells(rows):
    if why := netns.missing_link_kinds():
        pytest.skip(why)
    f = facts(rows, "bridge")
    assert f["wiring"].startswith("by the test, from the host")
    assert (f["the peer's answer"], f["the peer got"]) == ("hello back", "hello from the other shell")
    assert f["the host's addresses from the shell"].startswith("none of ")
    assert f["host's addresses from the peer"].startswith("none of ")
    assert f["host's listener got a connection"] is False


# The probes report what the launcher determines, not what the host happens to hold: a second
# run gives the same facts, probe by probe, for each launcher and for the host's own column. A
# fact that changed from one run to the next (a count of the host's objects, a lookup that
# depends on which host pids exist) would make a launcher look different from itself.


def all_facts(results: dict, launchers: tuple[str, ...]) -> dict[str, dict]:
    facts = {f"host: {name}": seen["facts"] for name, seen in results["host"].items()}
    for launcher in launchers:
        facts.update({f"{launcher}: {name}": seen["facts"] for name, seen in results["observations"][launcher].items()})
    return facts


def test_a_second_run_gives_the_same_facts(results):
    names = (GO.name, PY.name)
    first, second = all_facts(results, names), all_facts(parity.run_all([GO, PY]), names)
    assert first.keys() == second.keys()
    changed = {k: (first[k], second[k]) for k in first if first[k] != second[k]}
    assert not changed, "\n".join(f"{k}:\n  first:  {a}\n  second: {b}" for k, (a, b) in changed.items())


def test_namespace_links_keep_their_names_when_one_cannot_be_read():
    """The namespaces probe reads every link with one readlink; a link it cannot read (here a name
    /proc/self/ns does not have) still leaves each other link beside its own name, and itself empty."""
    script = ns_lines(("uts", "no-such-namespace", "ipc"))
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"uts: {os.readlink('/proc/self/ns/uts')}", "no-such-namespace: ",
                                f"ipc: {os.readlink('/proc/self/ns/ipc')}"]  # fmt: skip
    whole = subprocess.run(["sh", "-c", ns_lines(NS_FILES)], capture_output=True, text=True, check=True).stdout
    assert whole.splitlines() == [f"{n}: {os.readlink(f'/proc/self/ns/{n}')}" for n in NS_FILES]
