"""port/libc.py's buffers are the kernel's sizes, and what it reads back is where the kernel puts it.

The structs libc.py hands the kernel (struct statfs, struct sigaction) are ctypes buffers sized from
the architecture's row. A buffer too small is overwritten past its end, which goes unseen in a normal
process; under PYTHONMALLOC=debug every block has guard bytes, and freeing an overwritten one aborts.
So each call runs in a fresh interpreter with the debug allocator, and must print its answer and exit 0.
"""

import os
import subprocess
import sys

import pytest

from tests.support import machine
from tests.support.paths import ROOT

SCRIPT = """
import os, resource, signal, sys
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort here leaves no core file
from port import libc
from port.arch import ROW

fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
print(libc.is_cgroup2(fd))
signal.signal(signal.SIGUSR1, lambda *a: None)
libc.add_sigaction_flags(signal.SIGUSR1, libc.SA_NODEFER)
lib = libc.libc()
act = (lib.Long * (ROW["SIGACTION_SIZE"] // 8))()
libc._check(lib.syscall(libc.SYS_RT_SIGACTION, signal.SIGUSR1, None, act, ROW["SIGACTION_MASK"][1]))
at, size = ROW["SIGACTION_HANDLER"]
flags = act[(at + size) // 8]
print(bool(flags & libc.SA_NODEFER), bool(flags & libc.SA_RESETHAND), signal.getsignal(signal.SIGUSR1) is not None)
os.kill(os.getpid(), signal.SIGUSR1)  # the handler runs: the handler word is still the handler
print("handled")

def action(sig):
    act = (lib.Long * (ROW["SIGACTION_SIZE"] // 8))()
    libc._check(lib.syscall(libc.SYS_RT_SIGACTION, sig, None, act, ROW["SIGACTION_MASK"][1]))
    # handler, flags without the two CPython and glibc add to every action (SA_ONSTACK, SA_RESTORER), mask
    return act[at // 8], act[(at + size) // 8] & ~0x0C000000, act[ROW["SIGACTION_MASK"][0] // 8]

signal.signal(signal.SIGUSR2, lambda *a: None)
libc.add_sigaction_flags(signal.SIGUSR2, libc.SA_RESETHAND)
print(hex(action(signal.SIGUSR1)[1]), hex(action(signal.SIGUSR2)[1]))  # the kernel's SA_NODEFER, SA_RESETHAND
libc.set_signal_raw(signal.SIGUSR2, libc.SIG_IGN)  # the whole struct from this buffer: nothing read past it
print(action(signal.SIGUSR2))
"""


def run(directory: str) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONMALLOC="debug")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, directory], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=20)  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("where", ["cgroup2", "tmp"])
def test_statfs_and_sigaction_stay_in_their_buffers(where, tmp_path):
    directory = machine.cgroup2_root() if where == "cgroup2" else str(tmp_path)
    if directory is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    status, out, err = run(directory)
    assert (status, err) == (0, "")
    assert out == f"{where == 'cgroup2'}\nTrue False True\nhandled\n0x40000000 0x80000000\n(1, 0, 0)\n"
