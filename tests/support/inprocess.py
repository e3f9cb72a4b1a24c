"""A script's command line checked in this process: scripts/NAME.py's plumbum Application, run as
plumbum runs it for tests (`run(argv, exit=False)`), its stdout and stderr captured.

For bad command lines, which a script refuses before any work: the same code as a real start, without
the interpreter's start and the imports (plumbum, rich, jinja2) that cost each refusal ~0.2 s of CPU.
Each script's refusals keep one case run as a real process, which shows the process's side: no
traceback, the status it exits with.
"""

import contextlib
import importlib
import io
import subprocess

from plumbum import cli


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    """scripts/NAME.py ARGS: the status main returns (or SystemExit's), and what it printed."""
    module = importlib.import_module(f"scripts.{name}")
    (app,) = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, cli.Application)
              and v.__module__ == module.__name__]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            _, status = app.run([f"scripts/{name}.py", *args], exit=False)
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
    return subprocess.CompletedProcess([f"scripts/{name}.py", *args], status, out.getvalue(), err.getvalue())
