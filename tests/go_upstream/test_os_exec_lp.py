"""Go's src/os/exec/lp_test.go, lp_unix_test.go, lp_linux_test.go and dot_test.go, translated: LookPath."""

import os
import subprocess
import sys

import pytest

from port import exec

NON_EXISTENT_PATHS = ["some-non-existent-path", "non-existent-path/slashed"]


def test_LookPathNotFound():
    for name in NON_EXISTENT_PATHS:
        with pytest.raises(exec.Error) as e:
            exec.look_path(name)
        assert e.value.name == name


def test_LookPathUnixEmptyPath(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fd = os.open("exec_me", os.O_CREAT | os.O_EXCL, 0o700)
    os.close(fd)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(exec.Error):
        exec.look_path("exec_me")


@pytest.mark.root
def test_FindExecutableVsNoexec():
    """Go mounts a tmpfs on a temporary directory; here in a mount namespace of a child, not on the host."""
    code = "from tests.go_upstream.test_os_exec_lp import find_executable_vs_noexec; find_executable_vs_noexec()"
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, "-c", code],
                          capture_output=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()


def find_executable_vs_noexec() -> None:
    """The body of Go's test, run in its own mount namespace."""
    import tempfile

    from port import libc

    tmp = tempfile.mkdtemp()
    libc.mount("tmpfs", tmp, "tmpfs", 0)
    path = os.path.join(tmp, "program")
    with open(path, "w") as f:
        f.write("#!/bin/sh\necho 123\n")
    os.chmod(path, 0o755)
    exec.look_path(path)
    while True:
        try:
            exec.Command(path).run()
            break
        except exec.GoError as e:
            if "text file busy" not in str(e):
                raise
    ms_remount, ms_noexec = 32, 8
    libc.mount("", tmp, None, ms_remount | ms_noexec)
    try:
        exec.Command(path).run()
    except exec.GoError:
        pass
    else:
        raise AssertionError("exec on noexec filesystem: got nil, want error")
    try:
        exec.look_path(path)
    except exec.Error:
        pass
    else:
        raise AssertionError("LookPath: got nil, want error")


# --- dot_test.go: TestLookPath


@pytest.fixture
def testdir(tmp_path, monkeypatch):
    d = tmp_path / "testdir"
    d.mkdir()
    (d / "execabs-test").write_bytes(bytes([1, 2, 3]))
    (d / "execabs-test").chmod(0o777)
    monkeypatch.chdir(d)
    return d


@pytest.mark.parametrize("errdot", ["1", "0"])
@pytest.mark.parametrize("dir_", [".", "../testdir"])
def test_LookPath(testdir, monkeypatch, errdot, dir_):
    orig_path = os.environ.get("PATH", "")
    monkeypatch.setenv("GODEBUG", f"execerrdot={errdot},execwait=2")
    monkeypatch.setenv("PATH", dir_ + ":" + orig_path)
    good = dir_ + "/execabs-test"
    assert exec.look_path(good).startswith(good)
    if errdot == "1":
        with pytest.raises(exec.DotError):
            exec.look_path("execabs-test")
    else:
        exec.look_path("execabs-test")
    cmd = exec.Command("execabs-test")
    if errdot == "1":
        assert isinstance(cmd.err, exec.DotError)
        cmd.err = None
    else:
        assert cmd.err is None
    with pytest.raises(exec.GoError) as e:
        cmd.run()
    assert not exec.wraps(e.value, exec.DotError)  # an exec error like ENOEXEC, not ErrDot


def test_LookPath_PATH_is_PWD(testdir, monkeypatch):
    monkeypatch.setenv("PATH", f"{testdir}:{os.environ.get('PATH', '')}")
    good = str(testdir / "execabs-test")
    assert exec.look_path(good).startswith(good)
    assert exec.look_path("execabs-test").startswith(good)
    assert exec.Command("execabs-test").err is None


def test_LookPath_PATH_is_OTHER(testdir, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    want_err_dot = False
    try:
        exec.look_path("execabs-test")
        raise AssertionError("with PATH='', LookPath found execabs-test; want non-nil error")
    except exec.DotError:
        want_err_dot = True
    except exec.Error:
        pass
    other = tmp_path / "other"
    other.mkdir()
    (other / "execabs-test").write_bytes(bytes([1, 2, 3]))
    (other / "execabs-test").chmod(0o777)
    monkeypatch.setenv("PATH", f"{other}:{os.environ.get('PATH', '')}")
    if want_err_dot:
        with pytest.raises(exec.DotError) as e:
            exec.look_path("execabs-test")
        assert e.value.path == "execabs-test"
    else:
        assert exec.look_path("execabs-test") == str(other / "execabs-test")


@pytest.mark.parametrize("path_var", ["OTHER2", "exe", "exe/xx"])
@pytest.mark.parametrize("test", ["", ".", "abc/..", ".."], ids=["empty", "dot", "dotdot1", "dotdot2"])
def test_LookPath_checker(testdir, monkeypatch, path_var, test):
    if path_var == "exe":
        monkeypatch.setenv("PATH", sys.executable)
    elif path_var == "exe/xx":
        monkeypatch.setenv("PATH", os.path.join(sys.executable, "xx"))
    with pytest.raises(exec.Error):
        exec.look_path(test)
