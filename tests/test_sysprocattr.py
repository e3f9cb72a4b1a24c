"""Every SysProcAttr field: build/launcher-go and python -m port.launcher agree.

Each configuration in tests/configs.py runs under both launchers, either
through the probe suite (an interactive sh in a pty) or as `sh -c SCRIPT`
in a pty; the results must be the same, and the reference must show what
the field promises.
"""

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pexpect
import pytest

from tests import parity, shell
from tests.configs import CONFIGS, Config
from tests.launchers import Launcher
from tests.shell import transcript

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
    base = Path("/sys/fs/cgroup/unified")
    if not (base / "cgroup.procs").exists():
        base = Path("/sys/fs/cgroup")
    if not (base / "cgroup.procs").exists():
        pytest.skip("no cgroup v2 hierarchy mounted (CLONE_INTO_CGROUP needs one)")
    path = base / f"nsport-test-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    try:
        yield path
    finally:
        path.rmdir()


def materialize(config: Config, tmp_path: Path, request) -> tuple[Launcher, Launcher]:
    subst = {}
    if config.needs == "chroot":
        subst["$CHROOT"] = str(build_chroot(tmp_path / "root"))
    if config.needs == "cgroup":
        subst["$CGROUP"] = str(request.getfixturevalue("cgroup_dir"))
    pair = []
    for launcher in config.launchers():
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


@pytest.mark.parametrize(
    "config", [pytest.param(c, id=c.name, marks=[pytest.mark.root] if c.root else []) for c in CONFIGS]
)
def test_field_parity(config, tmp_path, request):
    go, py = materialize(config, tmp_path, request)
    if config.script is not None:
        go_run, py_run = run_in_pty(go), run_in_pty(py)
        if config.unordered:
            go_run, py_run = (("".join(sorted(text.splitlines(True))), *rest) for text, *rest in (go_run, py_run))
        assert go_run == py_run, f"\n--- go {go_run[1:]}\n{go_run[0]}--- py {py_run[1:]}\n{py_run[0]}"
        missing = [line for line in config.expect if line not in go_run[0]]
        assert not missing, f"the reference did not print {missing}:\n{go_run[0]}"
        return
    rows = {r["name"]: r for r in parity.compare(parity.run_all([go, py]))}
    bad = {name: r["differs"] for name, r in rows.items() if not r["match"]}
    facts = {name: [r["launchers"][lc.name]["facts"] for lc in (go, py)] for name, r in rows.items()}
    assert not bad, "\n".join(f"{name}: {bad[name]}\n go: {facts[name][0]}\n py: {facts[name][1]}" for name in bad)
    for probe, expected in config.expect.items():
        seen = rows[probe]["launchers"][go.name]["facts"]
        assert {k: seen.get(k) for k in expected} == expected, f"{probe}: {seen}"


def test_every_field_is_exercised():
    from port.sysprocattr import SysProcAttr

    covered = {f for c in CONFIGS for f in c.fields} | {"pdeathsig"}  # tests/test_pdeathsig.py
    assert set(SysProcAttr.__annotations__) - covered == set()


def test_environment_has_no_placeholder_leak():
    assert "LAUNCHER_PGRP" not in os.environ
