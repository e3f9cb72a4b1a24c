"""Run a launcher with stdin, stdout and stderr on pipes, and compare runs."""

import os
import re
import subprocess
from dataclasses import dataclass

from tests.support import shell
from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY, Launcher

LOG_TIME = re.compile(shell.LOG_TIME.pattern.encode(), re.M)  # the same pattern, for bytes


@dataclass(frozen=True)
class Result:
    stdout: bytes
    stderr: bytes
    status: int  # subprocess returncode: -N when killed by signal N

    def masked(self) -> "Result":
        """The same result with Go's log timestamps replaced by a fixed marker."""
        return Result(self.stdout, LOG_TIME.sub(b"YYYY/MM/DD hh:mm:ss ", self.stderr), self.status)

    def show(self) -> str:
        return f"status {self.status}\n--- stdout\n{self.stdout.decode(errors='replace')}" \
               f"--- stderr\n{self.stderr.decode(errors='replace')}"  # fmt: skip


def base_env(**changes: str | None) -> dict[str, str]:
    """The test's environment with changes applied; None removes a variable."""
    env = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(launcher: Launcher, stdin: bytes, env=None, cwd=None, prefix=(), timeout=20) -> Result:
    proc = subprocess.run(
        [*prefix, *launcher.argv], input=stdin, capture_output=True, env=env, cwd=cwd, timeout=timeout
    )
    return Result(proc.stdout, proc.stderr, proc.returncode)


def assert_same(go: Result, py: Result) -> None:
    """Byte for byte apart from the log time; both transcripts shown on failure."""
    assert go.masked() == py.masked(), f"\n=== go\n{go.show()}\n=== py\n{py.show()}"


def launch(argv, args=(), prefix=(), **kw) -> tuple[bytes, bytes, int]:
    """Run prefix + argv + args, stdin /dev/null unless given: (stdout, stderr without log times, status)."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    proc = subprocess.run([*prefix, *argv, *args], capture_output=True, timeout=20, **kw)
    return proc.stdout, LOG_TIME.sub(b"", proc.stderr), proc.returncode


def launch_both(args, **kw) -> tuple[bytes, bytes, int]:
    """The SysProcAttr launchers, Go's and the port's, with the same options: what both gave, which must agree."""
    go, py = launch(LAUNCHER_GO.argv, args, **kw), launch(LAUNCHER_PY.argv, args, **kw)
    assert go == py
    return go
