"""Output the launcher printed comes before the child's, under every strategy and with a middle process.

Go's os.Stdout has no buffer; the port flushes Python's before the fork (tests/test_pipes.py checks the
plain start). Here each strategy starts the child in new user and PID namespaces, where SUBREAPER and
RELAY go through a middle process (SUBREAPER's _start_adopted flushes on its own path).
"""

import os
import subprocess
import sys

import pytest

from port.exec_linux import STRATEGIES
from tests.support.paths import ROOT

pytestmark = pytest.mark.userns

SCRIPT = """
import sys
from port import exec
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr
print('launcher')
cmd = exec.Command('echo', 'child')
cmd.strategy = sys.argv[1]
cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
cmd.stdout = 1
cmd.run()
print('after', cmd.strategy_taken)
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_output_before_a_start_in_new_namespaces_comes_first(strategy):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout on a pipe: block-buffered
    proc = subprocess.run([sys.executable, "-c", SCRIPT, strategy], capture_output=True, env=env, cwd=ROOT,
                          timeout=20)  # fmt: skip
    assert (proc.stdout, proc.stderr) == (f"launcher\nchild\nafter {strategy}\n".encode(), b"")
