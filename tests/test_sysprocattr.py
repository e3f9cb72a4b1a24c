"""Every SysProcAttr field: build/launcher-go and python -m port.launcher agree.

Each configuration in tests/support/configs.py runs under both launchers, either
through the probe suite (an interactive sh in a pty) or as `sh -c SCRIPT`
in a pty; the results must be the same, and the reference must show what
the field promises. The port runs each with every start strategy
(`--strategy`, which Go checks and ignores) where the strategy changes the
code path: RAW_CLONE and SUBREAPER always; RELAY only with a new PID or time
namespace (without one it takes SUBREAPER's path), where its one known
difference, the extra process in the host's tree, is allowed.
"""

import functools
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pexpect
import pytest

from port.exec_linux import RAW_CLONE, RELAY, STRATEGIES
from port.sysprocattr import (
    CLONE_NEWPID,
    CLONE_NEWTIME,
    NAMESPACES,
    SysProcAttr,
)
from tests.support import machine, parity, shell
from tests.support.configs import CONFIGS, Config
from tests.support.launchers import Launcher
from tests.support.piped import launch_both
from tests.support.probe import Host
from tests.support.shell import transcript

pytestmark = pytest.mark.userns

# Replaces the argument "$LAUNCHER_PGRP" by the wrapper's pid, which is the
# launcher's pid (and process group: pexpect makes it a group leader) after exec.
PGRP_WRAPPER = ("sh", "-c", 'for a do shift; [ "$a" = "\\$LAUNCHER_PGRP" ] && a=$$; set -- "$@" "$a"; done; exec "$@"',
                "wrapper")  # fmt: skip


def build_chroot(root: Path) -> Path:
    """A root with only sh (dash) and the libraries it links."""
    out = subprocess.run(["ldd", "/usr/bin/dash"], capture_output=True, text=True, check=True).stdout
    for lib in (w for line in out.splitlines() for w in line.split() if w.startswith("/")):
        dest = root / lib.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(lib, dest)
    (root / "bin").mkdir(exist_ok=True)
    shutil.copy2("/usr/bin/dash", root / "bin" / "sh")
    return root


@pytest.fixture
def cgroup_dir():
    """A cgroup v2 directory of our own, removed afterwards."""
    if (base := machine.cgroup2_root()) is None:
        pytest.skip("no cgroup v2 hierarchy mounted (CLONE_INTO_CGROUP needs one)")
    path = Path(base) / f"nsport-test-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    try:
        yield path
    finally:
        path.rmdir()


def materialize(config: Config, tmp_path: Path, request, strategy: str = RAW_CLONE) -> tuple[Launcher, Launcher]:
    subst = {}
    if config.needs == "chroot":
        subst["$CHROOT"] = str(build_chroot(tmp_path / "root"))
    if config.needs == "cgroup":
        subst["$CGROUP"] = str(request.getfixturevalue("cgroup_dir"))
    pair = []
    for launcher in config.launchers(("--strategy", strategy)):
        argv = tuple(subst.get(a, a) for a in launcher.argv)
        if "$LAUNCHER_PGRP" in argv:
            argv = PGRP_WRAPPER + argv
        pair.append(Launcher(launcher.name, argv, launcher.about, launcher.reference))
    return pair[0], pair[1]


def run_in_pty(launcher: Launcher) -> tuple[str, int | None, int | None]:
    child = shell.spawn(launcher.argv, timeout=15)
    try:
        child.expect(pexpect.EOF)
        text = transcript(child.before)
        shell.reap(child)
    finally:
        shell.kill(child)
    return text, child.exitstatus, child.signalstatus


@functools.cache
def _reference_in_pty(argv: tuple[str, ...]) -> tuple[str, int | None, int | None]:
    return run_in_pty(Launcher("go", argv, "", reference=True))


def _one_strategy(go: Launcher) -> tuple[str, ...]:
    """Go's launcher checks --strategy and ignores it, so one run of a configuration
    serves every strategy the port is compared under (per worker: xdist_group below)."""
    argv = list(go.argv)
    if "--strategy" in argv:
        argv[argv.index("--strategy") + 1] = RAW_CLONE
    return tuple(argv)


def reference_in_pty(go: Launcher) -> tuple[str, int | None, int | None]:
    return _reference_in_pty(_one_strategy(go))


@functools.cache
def _reference_observed(argv: tuple[str, ...], name: str) -> tuple[Host, dict]:
    host = Host()
    return host, parity.observe(Launcher(name, argv, "", reference=True), host=host)


def probe_both(go: Launcher, py: Launcher) -> dict:
    """parity.run_all([go, py]) without the host's view, with Go's observation taken once per
    configuration (the port's is read against the same host baseline)."""
    host, observed = _reference_observed(_one_strategy(go), go.name)
    return parity.results([go, py], {go.name: observed, py.name: parity.observe(py, host=host)}, host)


def makes_middle_process(config: Config) -> bool:
    """Does the configuration ask for a PID or time namespace (where RELAY differs from SUBREAPER)?"""
    args = list(config.options)
    clone = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--clone"]
    flags = 0
    for item in ",".join(clone).split(","):
        flags |= NAMESPACES.get(item, 0)
    return bool(flags & (CLONE_NEWPID | CLONE_NEWTIME))


def marks(config: Config) -> list:
    """root where it needs euid 0; kernel(...) where it needs kernel features (skipped by their names)."""
    return [pytest.mark.root] * config.root + [pytest.mark.kernel(*config.kernel)] * bool(config.kernel)


CASES = [
    pytest.param(c, s, id=f"{c.name}-{s}", marks=[*marks(c), pytest.mark.xdist_group(f"sysprocattr-{c.name}")])
    for c in CONFIGS
    for s in STRATEGIES
    if s != RELAY or makes_middle_process(c)
]


@pytest.mark.parametrize(("config", "strategy"), CASES)
def test_field_parity(config, strategy, tmp_path, request):
    go, py = materialize(config, tmp_path, request, strategy)
    if config.script is not None:
        go_run, py_run = reference_in_pty(go), run_in_pty(py)
        if config.unordered:
            go_run, py_run = (("".join(sorted(text.splitlines(True))), *rest) for text, *rest in (go_run, py_run))
        assert go_run == py_run, f"\n--- go {go_run[1:]}\n{go_run[0]}--- py {py_run[1:]}\n{py_run[0]}"
        missing = [line for line in config.expect if line not in go_run[0]]
        assert not missing, f"the reference did not print {missing}:\n{go_run[0]}"
        return
    rows = {r["name"]: r for r in parity.compare(probe_both(go, py))}
    bad = {name: r["differs"] for name, r in rows.items() if not r["match"]}
    if strategy == RELAY and bad.get("pstree") == {py.name: ["process tree from the host"]}:
        del bad["pstree"]  # the relay process itself: tests/test_regressions_caught.py
    facts = {name: [r["launchers"][lc.name]["facts"] for lc in (go, py)] for name, r in rows.items()}
    assert not bad, "\n".join(f"{name}: {bad[name]}\n go: {facts[name][0]}\n py: {facts[name][1]}" for name in bad)
    for probe, expected in config.expect.items():
        seen = rows[probe]["launchers"][go.name]["facts"]
        assert {k: seen.get(k) for k in expected} == expected, f"{probe}: {seen}"


def test_every_field_is_exercised():

    covered = {f for c in CONFIGS for f in c.fields} | {"pdeathsig"}  # tests/test_pdeathsig.py
    assert set(SysProcAttr.__annotations__) - covered == set()


def test_environment_has_no_placeholder_leak():
    assert "LAUNCHER_PGRP" not in os.environ


@pytest.mark.parametrize("ctty", ["2", "3"])
def test_ctty_bound_is_the_number_of_files(ctty):
    """Go: "Setctty set but Ctty not valid in child" when Ctty >= len(Files); 2 is the last valid one."""
    out, err, status = launch_both(["--setctty", "--ctty", ctty, "--", "true"])
    want = b"Setctty set but Ctty not valid in child" if ctty == "3" else b"inappropriate ioctl for device"
    assert (out, status) == (b"", 1) and err.startswith(b"fork/exec /usr/bin/true: " + want), err


@pytest.mark.parametrize("noctty", [False, True], ids=["", "noctty"])
def test_noctty_detaches_stdin_from_the_controlling_tty(noctty):
    """Go: Noctty is ioctl(0, TIOCNOTTY): the terminal on fd 0 (here the session's controlling tty,
    while stdout is a pipe) stops being the child's controlling tty."""
    master, slave = os.openpty()
    try:
        args = ["--noctty"] * noctty + ["--", "sh", "-c", "echo ok; cut -d' ' -f7 /proc/self/stat"]
        out, err, status = launch_both(args, stdin=slave, prefix=("setsid", "--ctty"))
    finally:
        os.close(master)
        os.close(slave)
    assert (err, status) == (b"", 0)
    lines = out.decode().split()
    assert lines[0] == "ok" and (lines[1] == "0") == noctty  # tty_nr 0: no controlling tty
