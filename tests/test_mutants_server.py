"""make mutants' pytest server (tests/support/mutants_server.py): a forked run sees what a fresh
`unshare --mount --uts --ipc --net sh -c ... python -m pytest` saw, and nothing of the host changes."""

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

PROBE = """
import json, os, signal, subprocess

def test_where_it_runs():
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    seen = {"pwd": os.environ.get("PWD"), "cwd": os.getcwd(), "session": os.getsid(0) == os.getpid(),
            "hup": signal.getsignal(signal.SIGHUP) == signal.SIG_DFL,
            "int": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
            "ns": {n: os.readlink(f"/proc/self/ns/{n}") for n in ("mnt", "uts", "ipc", "net")},
            "lo up": "lo: <LOOPBACK,UP" in links, "stdin": os.path.realpath("/proc/self/fd/0"),
            "port": "port" in __import__("sys").modules}
    with open(os.environ["NSPORT_SERVER_PROBE"], "w") as f:
        json.dump(seen, f)
"""


@pytest.mark.root
def test_a_forked_run_is_a_fresh_sandboxed_pytest(tmp_path):
    (tmp_path / "test_probe.py").write_text(PROBE)
    out, seen = tmp_path / "out", tmp_path / "seen.json"
    env = dict(os.environ, NSPORT_SERVER_PROBE=str(seen), PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    signal_ignored = {"preexec_fn": lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)}  # as a job started with &
    server = subprocess.Popen(["env", "--default-signal=HUP,INT", sys.executable, "-m", "tests.support.mutants_server"],
                              cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              **signal_ignored)  # fmt: skip
    try:
        args = ["-q", "-p", "no:cacheprovider", "-n", "0", "-p", "no:hypothesispytest", "--rootdir", str(tmp_path),
                str(tmp_path / "test_probe.py")]  # fmt: skip
        server.stdin.write(json.dumps({"args": args, "out": str(out)}) + "\n")
        server.stdin.flush()
        pid = int(server.stdout.readline().split()[1])
        status = int(server.stdout.readline().split()[1])
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    assert os.waitstatus_to_exitcode(status) == 0, out.read_text()
    assert pid != server.pid
    got = json.loads(seen.read_text())
    host = {n: os.readlink(f"/proc/self/ns/{n}") for n in ("mnt", "uts", "ipc", "net")}
    assert {n: got["ns"][n] != host[n] for n in host} == {"mnt": True, "uts": True, "ipc": True, "net": True}
    assert (got["pwd"], got["cwd"]) == (str(ROOT), str(ROOT))
    assert got["session"] and got["hup"] and got["int"] and got["lo up"]
    assert got["stdin"] == "/dev/null"
    assert not got["port"]  # the server imported nothing of the project: the child imports the mutant from disk
