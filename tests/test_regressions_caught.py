"""Dropping any one of the six namespace flags from the port is caught.

tests/programs/variants.py runs the real port with one CLONE_NEW* constant zeroed;
the suite must report a mismatch in the probe that watches that namespace,
and `make parity` (scripts/parity.py) must fail and name it.
"""

import subprocess
import sys

import pytest

from tests.support import parity
from tests.support.launchers import BROKEN, GO
from tests.support.paths import ROOT
from tests.support.probes import PROBES

pytestmark = pytest.mark.userns

WATCHED_BY = {"UTS": "hostname", "IPC": "ipc", "PID": "pid", "NS": "mount", "USER": "id", "NET": "net"}


# Without CLONE_NEWUSER the other namespaces need root on the host.
@pytest.mark.parametrize("flag", [pytest.param(f, marks=[pytest.mark.root] if f == "USER" else []) for f in WATCHED_BY])
def test_dropped_flag_is_caught_by_its_probe(flag):
    probes = [p for p in PROBES if p.name in (WATCHED_BY[flag], "namespaces")]  # the two this test reads
    rows = {row["name"]: row for row in parity.compare(parity.run_all([GO, BROKEN[flag]], probes), probes)}
    assert not rows[WATCHED_BY[flag]]["match"], f"probe {WATCHED_BY[flag]} missed CLONE_NEW{flag}"
    assert not rows["namespaces"]["match"]


def test_parity_script_fails_and_names_the_probe(tmp_path):
    broken = BROKEN["NET"]
    proc = subprocess.run(
        [sys.executable, "scripts/parity.py", "--launchers", f"go,{broken.name}", "--probes", "net,namespaces",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"MISMATCH net: {broken.name} differs from go" in proc.stdout
    assert (tmp_path / "parity.json").exists()
