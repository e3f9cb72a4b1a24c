"""Go's src/os/exec/exec_posix_test.go, translated: credentials, stopped children, PWD, SIGCHLD."""

import io
import os
import signal
import threading
import time

from port import exec
from port.sysprocattr import Credential, SysProcAttr
from tests.go_upstream.common import helper_command


def test_CredentialNoSetGroups():
    cmd = helper_command("echo", "foo")
    cmd.sys_proc_attr = SysProcAttr(credential=Credential(os.getuid(), os.getgid(), no_set_groups=True))
    cmd.run()


def test_Waitid():
    cmd = helper_command("pipetest")
    stdin, stdout = cmd.stdin_pipe(), cmd.stdout_pipe()
    cmd.start()
    msg = b"O:ping\n"
    stdin.write(msg)
    buf = b""
    while len(buf) < len(msg) and (chunk := stdout.read(len(msg) - len(buf))):
        buf += chunk
    cmd.process.signal(signal.SIGSTOP)
    result = []
    waiter = threading.Thread(target=lambda: result.append(_wait(cmd)))
    waiter.start()
    time.sleep(0.01)  # Go sleeps too: give Wait the chance to see the stop (it must not return)
    cmd.process.signal(signal.SIGCONT)
    stdin.close()
    waiter.join()
    assert result == [None]


def _wait(cmd):
    try:
        cmd.wait()
    except exec.GoError as e:
        return e
    return None


def _pwds(cmd) -> list[bytes]:
    return [kv[4:] for kv in cmd.environ() if kv.startswith(b"PWD=")]


def _implicit_cases():
    cwd = exec.getwd()
    return [("empty", "", cwd), ("dot", ".", cwd), ("dotdot", "..", os.path.dirname(cwd)), ("PWD", cwd, cwd),
            ("PWDdotdot", cwd + "/..", os.path.dirname(cwd))]  # fmt: skip


def test_ImplicitPWD():
    for _name, dir_, want in _implicit_cases():
        cmd = helper_command("pwd")
        assert cmd.env is None, "test requires helperCommand not to set Env field"
        cmd.dir = dir_
        want_pwds = [want.encode()]
        if dir_ == "" and "PWD" not in os.environ:
            want_pwds = []
        assert _pwds(cmd) == want_pwds, _name
        cmd.stderr = io.BytesIO()
        out = cmd.output()
        assert out.strip(b"\r\n").decode() == want, _name


def test_ExplicitPWD(tmp_path):
    cwd = exec.getwd()
    link = str(tmp_path / "link")
    os.symlink(cwd, link)
    cases = [("original PWD", "", cwd), ("link PWD", "", link), ("in link with original PWD", link, cwd),
             ("in dir with link PWD", cwd, link)]  # fmt: skip
    for name, dir_, pwd in cases:
        cmd = helper_command("pwd")
        cmd.env = [*cmd.environ(), b"PWD=" + pwd.encode()]
        cmd.dir = dir_
        assert _pwds(cmd) == [pwd.encode()], name
        cmd.stderr = io.BytesIO()
        out = cmd.output()
        assert out.strip(b"\r\n").decode() == pwd, name


def test_SIGCHLD():
    cmd = helper_command("signaltest")
    out = cmd.combined_output()
    assert b"too many SIGCHLD" not in out
