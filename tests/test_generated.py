"""Generated files are current: Go's errno/signal tables and the README's SysProcAttr table."""

import subprocess
import sys

import pytest

from tests.support.paths import GO, ROOT


@pytest.mark.parametrize("script", ["gen_go_tables.py", "gen_docs.py"])
def test_generated_file_is_current(script):
    proc = subprocess.run([sys.executable, f"scripts/{script}", "--check", "--go", GO],
                          cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
