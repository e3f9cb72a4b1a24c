"""An execve(2) that fails on the port's own execve path (an environment os.execve cannot take).

Go hands execve the environment list as it is; os.execve wants a mapping, so an entry without "="
goes through libc.prepare_execve instead. When execve fails there (a script whose interpreter does
not exist: ENOENT from the kernel, after every check before the fork passed) the child reports the
errno as Go's does, and the start fails with it.
"""

import pytest

from port import exec_linux
from port.errors import Errno


def test_a_failed_raw_execve_reports_its_errno(tmp_path):
    script = tmp_path / "bad-interpreter"
    script.write_text("#!/nonexistent/interpreter\n")
    script.chmod(0o755)
    attr = exec_linux.ProcAttr(env=(b"NO_EQUALS_SIGN",), files=(0, 1, 2))
    with pytest.raises(Errno) as e:
        exec_linux.fork_exec(str(script), [str(script)], attr)
    assert (e.value.errno, str(e.value)) == (2, "no such file or directory")
