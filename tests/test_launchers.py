"""Choosing launchers by name (LAUNCHERS, make parity's option): commas or spaces, and Go the reference.

Every third-party launcher declares its expected differences against the notes' Go program, so `go`
is the reference wherever it is named, and is added when it is not; the help of make and of the
scripts says so.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.support.launchers import BWRAP, GO, PY, PY_RELAY, UNSHARE, select
from tests.support.paths import ROOT

NO_MAKE = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")


@pytest.mark.parametrize(
    ("names", "chosen"),
    [
        ("go,py", [GO, PY]),
        ("go, py", [GO, PY]),
        ("py,go", [GO, PY]),
        ("py unshare", [GO, PY, UNSHARE]),
        (" py-relay ,, go,py-relay ", [GO, PY_RELAY]),
        ("bwrap\tpy", [GO, BWRAP, PY]),
        ("py", [GO, PY]),
    ],
)
def test_go_is_the_reference_wherever_it_is_named(names, chosen):
    assert select(names) == chosen


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match=r"unknown launcher 'pyy'; known: go, py, unshare, bwrap"):
        select("go, pyy")


def test_make_passes_a_list_with_spaces_as_one_value():
    """make parity LAUNCHERS="go, py" used to split into two arguments (plumbum's usage dump)."""
    env = {k: v for k, v in os.environ.items() if k not in NO_MAKE}
    proc = subprocess.run(["make", "-n", "parity", "trace", "LAUNCHERS=go, py", "TRACE_LAUNCHERS=py, py-relay",
                           f"VENV={sys.prefix}"], cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "scripts/parity.py --launchers 'go, py'" in proc.stdout
    assert "scripts/trace.py --launchers 'py, py-relay'" in proc.stdout


def test_the_helps_say_go_is_the_reference():
    make = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "go, the reference, always runs" in make and "reference first" not in make
    for script in ("parity.py", "trace.py"):
        out = subprocess.run([sys.executable, f"scripts/{script}", "--help"], cwd=ROOT, capture_output=True,
                             text=True).stdout  # fmt: skip
        assert "go, the reference, always runs first (named or not)" in " ".join(out.split()), script


@pytest.mark.userns
def test_parity_named_py_first_still_compares_with_go(tmp_path):
    proc = subprocess.run([sys.executable, "scripts/parity.py", "--launchers", "py, go", "--probes", "hostname",
                           "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "parity.json").read_text())
    assert [lc["name"] for lc in data["launchers"]] == ["go", "py"]
