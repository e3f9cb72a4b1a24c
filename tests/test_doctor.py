"""make doctor: each missing tool is named with its package; a good machine is quiet; never a traceback.

Also what a fresh machine needs: every command the tests run is in doctor's table (TOOLS), the
README's list of packages is that table, a test whose optional tool is missing is skipped naming its
package, and as nobody (someone else's venv and tree, no HOME) doctor says so in one line each.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support import machine
from tests.support.paths import BUILD, ROOT

DOCTOR = (sys.executable, "-m", "scripts.doctor")  # as the Makefile runs it, from the tree's root
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
# What a make started inside the suite must not inherit from the make that started it.
NO_MAKE = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")


def path_without(tmp_path, *hidden: str) -> str:
    """A PATH of one directory holding every command in doctor's table but the hidden ones."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    for cmd in machine.BY_COMMAND:
        if cmd not in hidden and (real := shutil.which(cmd)):
            (bin_dir / cmd).symlink_to(real)
    return str(bin_dir)


def missing_line(command: str) -> str:
    tool = machine.BY_COMMAND[command]
    return f"doctor: error: {command} not found ({tool.used_by}): apt-get install {tool.package}\n"


def test_names_a_missing_command_and_its_package(tmp_path):
    """One missing command is one line on stderr; with every required command hidden at once (one doctor
    run, not one per command), each is named with its package, in the table's order."""
    first, *_ = machine.REQUIRED
    proc = subprocess.run([*DOCTOR, "--quiet"], cwd=ROOT, env=dict(os.environ, PATH=path_without(tmp_path, first)),
                          capture_output=True, text=True)  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", missing_line(first))
    every = list(machine.REQUIRED)
    env = dict(os.environ, PATH=path_without(tmp_path / "all", *every))
    proc = subprocess.run([*DOCTOR, "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    lines = proc.stderr.splitlines(keepends=True)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert [line for line in lines if " not found (" in line] == [missing_line(c) for c in every]


def test_an_optional_command_is_a_note_not_an_error(tmp_path):
    """Every optional command installed here, hidden at once: --quiet says nothing and exits 0; the full
    run names each with its package and what is skipped without it."""
    hidden = [c for c in machine.OPTIONAL if shutil.which(c)]
    if not hidden:
        pytest.skip("no optional command is installed here, so hiding them shows nothing")
    env = dict(os.environ, PATH=path_without(tmp_path, *hidden))
    quiet = subprocess.run([*DOCTOR, "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    full = subprocess.run(DOCTOR, cwd=ROOT, env=env, capture_output=True, text=True)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    for command in hidden:
        package, without = machine.OPTIONAL[command]
        assert f"doctor: note: {command} not found: {without}: apt-get install {package}\n" in full.stdout
    assert full.returncode == 0 and "doctor: all the suite needs is here" in full.stdout


def test_ordinary_user_is_told_what_is_skipped():
    lines = [f.line() for f in machine.kernel(euid=65534)]
    assert "note: not root: the tests that need root are skipped: run as root (sudo make test)" in lines


def test_bad_option_is_one_line():
    proc = subprocess.run([*DOCTOR, "--bogus"], cwd=ROOT, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", "usage: doctor.py [--quiet] [--help]\n")


def test_run_as_a_file_it_says_how_to_run_it(tmp_path):
    """Without the tree's root on sys.path (run as a file, or from elsewhere, before the venv's editable install
    exists: the interpreter behind the venv) it cannot import its table: one line saying how, never a traceback."""
    base = os.path.realpath(sys.executable)
    proc = subprocess.run([base, str(ROOT / "scripts" / "doctor.py")], cwd=tmp_path, capture_output=True,
                          text=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})  # fmt: skip
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "doctor: run it from the tree's root as `python3 -m scripts.doctor`, or run `make doctor`\n"


@pytest.mark.parametrize("option", ["--help", "-h"])
def test_help_exits_0_with_its_usage(option):
    proc = subprocess.run([*DOCTOR, option], cwd=ROOT, capture_output=True, text=True)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert (
        proc.stdout.startswith("Say what this machine lacks for the suite")
        and "python3 -m scripts.doctor --quiet" in proc.stdout
    )


@pytest.mark.root
def test_this_machine_has_everything_the_suite_needs():
    """CI's machine (root, .ci/run installs the packages): doctor --quiet says nothing."""
    proc = subprocess.run([*DOCTOR, "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


# --- every command a test runs is in the table -------------------------------------------------

# argv[0] written out where a test or the engine starts a program: subprocess calls, port.exec's
# Command and look_path, a Launcher's argv, and argv tuples such as ("setpriv", "--reuid", ...).
STARTS = re.compile(
    r"""(?:subprocess\.(?:run|Popen|check_output|check_call)|exec\.Command(?:Context)?|look_path)\(\s*(?:ctx,\s*)?"""
    r"""\[?\s*"([\w.+-]+)"|Launcher\(\s*"[^"]*",\s*\(\s*"([\w.+-]+)"|^\s*(?:prefix=|[A-Z_]+ = )?\("([\w.+-]+)", "--"""
)
# Names the tests make up on purpose: commands that must not be found, files they write, a made-up launcher.
NOT_TOOLS = {"no-such-command-nsport", "makemeasandwich", "execabs-test", "something-that-does-not-exist-executable",
             "exec_me", "third", "nsport-no-such-program"}  # fmt: skip


def test_every_command_the_tests_run_is_in_doctors_table():
    """So doctor checks it and names its package; a test of an optional one carries @pytest.mark.tool."""
    run = {}
    for path in (ROOT / "tests").rglob("*.py"):
        for line in path.read_text().splitlines():
            for name in filter(None, (g for m in STARTS.finditer(line) for g in m.groups())):
                run.setdefault(name, str(path.relative_to(ROOT)))
    assert {"busybox", "setpriv", "unshare", "nsenter", "ip", "bwrap", "apt-config"} <= set(run)
    unknown = {name: where for name, where in run.items() if name not in machine.BY_COMMAND and name not in NOT_TOOLS}
    assert not unknown, f"commands the tests run that make doctor does not check (add them to TOOLS): {unknown}"


def test_the_readme_lists_doctors_packages():
    """README.md's list of packages for a fresh machine is doctor's table (make docs writes it)."""
    readme = (ROOT / "README.md").read_text()
    assert readme == machine.with_packages(readme), "README.md's package list is out of date: run make docs"
    assert "apt-get install python3-venv make " in readme and "busybox-static" in readme


def test_a_missing_optional_tool_skips_its_tests_by_name(tmp_path):
    """Without busybox the initramfs test is skipped naming busybox-static, not a FileNotFoundError."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MAKE"))}
    env["PATH"] = path_without(tmp_path, "busybox")
    test = "tests/test_kernelvm.py::test_newc_archive_is_what_cpio_reads"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "-rs", test],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=100)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout
    assert "busybox not found: apt-get install busybox-static" in proc.stdout


def test_a_tool_marker_names_only_commands_in_the_table():
    assert machine.missing_tools("sh") is None
    with pytest.raises(KeyError):
        machine.missing_tools("no-such-tool-nsport")


# --- as nobody: someone else's venv and tree, no HOME ------------------------------------------


def _nobody_python() -> str:
    """An interpreter nobody can run (the suite's may live under /root, as pyenv's does), or skip.

    Through env: setpriv itself still holds root's capabilities at its execve, so it can start a
    program under /root that nobody could start from make."""
    for candidate in (os.path.realpath(sys.executable), "/usr/bin/python3", shutil.which("python3")):
        check = [*NOBODY, "env", candidate, "-c", "import sys; assert sys.version_info >= (3, 10)"]
        if candidate and subprocess.run(check, capture_output=True).returncode == 0:
            return candidate
    pytest.skip("no interpreter here that nobody can run (apt-get install python3)")


@pytest.fixture
def tree():
    """What make doctor needs of a checkout, copied where nobody can read it (the checkout may be under /root)."""
    where = Path(tempfile.mkdtemp(prefix="nsport-doctor-", dir="/tmp"))
    try:
        for rel in ("Makefile", "scripts/doctor.py", "scripts/python-path.sh", "tests/__init__.py",
                    "tests/support/__init__.py", "tests/support/machine.py"):  # fmt: skip
            (where / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, where / rel)
        for d in [where, *where.rglob("*")]:
            d.chmod(0o755 if d.is_dir() or d.suffix == ".sh" else 0o644)
        yield where
    finally:
        shutil.rmtree(where)


def _make_doctor_as_nobody(tree: Path, python: str, **env: str | None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in NO_MAKE}
    environ.update(HOME="/nonexistent")
    for k, v in env.items():
        if v is None:
            environ.pop(k, None)
        else:
            environ[k] = v
    return subprocess.run([*NOBODY, "make", "-s", "doctor", f"PYTHON={python}", "VENV=.venv"], cwd=tree,
                          env=environ, capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.mark.root
@pytest.mark.parametrize("home", ["/nonexistent", None], ids=["home-nonexistent", "no-home"])
def test_as_nobody_in_roots_tree_with_roots_venv(tree, home):
    """The venv's python points into a directory nobody cannot enter (pyenv under /root): an error, no traceback."""
    python = _nobody_python()
    private = tree / "private"
    private.mkdir(mode=0o700)
    (private / "python3").symlink_to(sys.executable)
    (tree / ".venv" / "bin").mkdir(parents=True)
    (tree / ".venv" / "bin" / "python").symlink_to(private / "python3")
    proc = _make_doctor_as_nobody(tree, python, HOME=home)
    assert "Traceback" not in proc.stderr and "PermissionError" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("doctor: error: ")]
    assert errors == [
        "doctor: error: .venv belongs to root and nobody cannot use it: work in a clone of your own, "
        "or name a venv of yours (make test VENV=~/.cache/nsport-venv)",
        f"doctor: error: nobody cannot write build/ and reports/ in {tree} (owned by root): make builds into "
        "build/ (Go's cache too) and writes reports/: work in a clone of your own",
    ], proc.stderr
    assert proc.returncode == 2  # make's status for a failed recipe (doctor's is 1)
    what = "HOME (/nonexistent) cannot be written" if home else "HOME is not set"
    assert f"doctor: note: {what}: make kernels cannot keep its downloads" in proc.stdout
    assert "doctor: note: not root: the tests that need root are skipped" in proc.stdout


@pytest.mark.root
def test_as_nobody_in_a_tree_of_its_own(tree):
    """nobody's own clone, no venv yet, HOME=/nonexistent: all is here, with notes only."""
    python = _nobody_python()
    for d in [tree, *tree.rglob("*")]:
        os.chown(d, 65534, 65534)
    proc = _make_doctor_as_nobody(tree, python)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    assert "doctor: all the suite needs is here (the notes above say what is skipped)" in proc.stdout


@pytest.mark.root
def test_go_builds_without_home(tmp_path):
    """Go's build cache is build/go-cache (the Makefile's GOENV): with no HOME at all, go still builds."""
    venv = Path(sys.prefix)
    if not (venv / ".installed").exists():
        pytest.skip(f"{venv} is not a venv made by the Makefile")
    env = {k: v for k, v in os.environ.items() if k not in (*NO_MAKE, "HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    env.pop("GOCACHE", None)
    proc = subprocess.run(["make", "-s", "-W", "reference_go/null/main.go", "build/null-go", f"VENV={venv}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    assert (BUILD / "go-cache").is_dir() and subprocess.run([BUILD / "null-go"]).returncode == 0
