"""make doctor: each missing tool is named with its package; a good machine is quiet."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.support import machine
from tests.support.paths import ROOT

DOCTOR = (sys.executable, str(ROOT / "scripts" / "doctor.py"))


def path_without(tmp_path, hidden: str) -> str:
    """A PATH of one directory holding every needed command but `hidden`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for cmd in [*machine.REQUIRED, *machine.OPTIONAL]:
        if cmd != hidden and (real := shutil.which(cmd)):
            (bin_dir / cmd).symlink_to(real)
    return str(bin_dir)


@pytest.mark.parametrize("hidden", list(machine.REQUIRED))
def test_names_a_missing_command_and_its_package(tmp_path, hidden):
    env = dict(os.environ, PATH=path_without(tmp_path, hidden))
    proc = subprocess.run([*DOCTOR, "--quiet"], env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"doctor: error: {hidden} not found (the probes run it): apt-get install {machine.REQUIRED[hidden]}\n"
    )


@pytest.mark.parametrize("hidden", list(machine.OPTIONAL))
def test_an_optional_command_is_a_note_not_an_error(tmp_path, hidden):
    if shutil.which(hidden) is None:
        pytest.skip(f"{hidden} is not installed here, so hiding it shows nothing")
    env = dict(os.environ, PATH=path_without(tmp_path, hidden))
    quiet = subprocess.run([*DOCTOR, "--quiet"], env=env, capture_output=True, text=True)
    full = subprocess.run(DOCTOR, env=env, capture_output=True, text=True)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert f"{hidden} not found" in full.stdout and f"apt-get install {machine.OPTIONAL[hidden][0]}" in full.stdout


def test_ordinary_user_is_told_what_is_skipped():
    lines = [f.line() for f in machine.kernel(euid=65534)]
    assert "note: not root: the tests that need root are skipped: run as root (sudo make test)" in lines


def test_bad_option_is_one_line():
    proc = subprocess.run([*DOCTOR, "--bogus"], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", "usage: doctor.py [--quiet]\n")


@pytest.mark.root
def test_this_machine_has_everything_the_suite_needs():
    """CI's machine (root, .ci/run installs the packages): doctor --quiet says nothing."""
    proc = subprocess.run([*DOCTOR, "--quiet"], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
