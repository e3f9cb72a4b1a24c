"""make docs' translation side by side (tests/support/translation.py) still fits the sources.

The step pairing names Go's heading comments in the toolchain's own
forkAndExecInChild1 and the port's numbered steps; when either side gains,
loses or renames a step, problems() says so and these tests fail.
"""

from pathlib import Path

import pytest

from tests.support import translation
from tests.support.paths import GO


@pytest.fixture(scope="module")
def goroot() -> Path:
    import subprocess

    return Path(subprocess.check_output([GO, "env", "GOROOT"], text=True).strip())


def test_pairing_fits_the_sources(goroot):
    assert translation.problems(goroot) == []


def test_a_new_go_step_is_noticed(goroot, tmp_path):
    """A Go heading no pair names (here: Chroot renamed) is reported, as is the lost anchor."""
    fake = tmp_path / "src" / "syscall"
    fake.mkdir(parents=True)
    source = (goroot / "src/syscall/exec_linux.go").read_text()
    (fake / "exec_linux.go").write_text(source.replace("\t// Chroot\n", "\t// Change root\n", 1))
    found = translation.problems(tmp_path)
    assert "Go's forkAndExecInChild1 has no block starting '// Chroot' (in this order)" in found
    assert "Go's step '// Change root' is paired with no step of the port" in found


def test_every_go_statement_of_the_notes_has_its_python_line():
    rows = translation.notes_rows()
    paired = {r["go"].strip(): r["py"].strip() for r in rows if r["paired"]}
    assert paired['fmt.Println("main starting...")'] == 'fmt.println("main starting...")'
    assert paired["os.Exit(-1)"].startswith("os._exit(-1)")
    assert paired["log.Fatal(err)"] == "log.fatal(err)"


@pytest.mark.root
@pytest.mark.tool("strace")
def test_each_step_makes_the_same_syscalls(goroot):
    """Under strace, the port's child makes Go's calls step by step, except where the README says why."""
    doc = translation.build(goroot)
    assert len(doc["steps"]) == len(translation.STEPS)

    def calls(step: dict, side: str) -> list[str]:
        return [c.split("(")[0] for c in step[side]]

    # Steps this start exercises whose calls are the same in kind and order (step 13 differs:
    # Go's fcntl(F_SETFD) against Python's ioctl(FIONCLEX)).
    alike = {"1", "2", "3", "6", "7", "8", "9", "10", "11", "12", "17"}
    signals = next(s for s in doc["steps"] if s["heading"].startswith("6."))
    assert signals["go_calls"][0] == signals["py_calls"][0]  # the same number of signals reset to SIG_DFL
    for step in (s for s in doc["steps"] if s["heading"].split(".")[0] in alike):
        assert calls(step, "go_calls") == calls(step, "py_calls") != [], step["heading"]
    assert translation.html(doc).count("<h3>") == len(translation.STEPS)
