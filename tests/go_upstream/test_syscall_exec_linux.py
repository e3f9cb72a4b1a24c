"""Go's src/syscall/exec_linux_test.go, translated: SysProcAttr on Linux, run by the port.

Go's GO_WANT_HELPER_PROCESS branches are helper.py commands; a helper that
must run as `nobody` or inside a chroot is sh or busybox, which that user or
that root can run (Go copies or statically builds its test binary for the
same reason).
"""

import os
import pwd
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

from port import exec
from port.errors import GoError
from port.sysprocattr import (
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWTIME,
    CLONE_NEWUSER,
    Credential,
    SysProcAttr,
    SysProcIDMap,
)
from tests.go_upstream.common import EXE, syscall_is_not_supported, wait_until_runtime_is_go
from tests.support import machine

pytestmark = [pytest.mark.userns]


def whoami_NEWUSER(uid: int, gid: int, setgroups: bool) -> exec.Cmd:
    cmd = exec.Command("whoami")
    cmd.sys_proc_attr = SysProcAttr(
        cloneflags=CLONE_NEWUSER,
        uid_mappings=[SysProcIDMap(0, uid, 1)],
        gid_mappings=[SysProcIDMap(0, gid, 1)],
        gid_mappings_enable_setgroups=setgroups,
    )
    return cmd


@pytest.mark.parametrize("setgroups", [False, True], ids=lambda v: f"setgroups={str(v).lower()}")
def test_CloneNEWUSERAndRemap(setgroups):
    uid, gid = os.getuid(), os.getgid()
    cmd = whoami_NEWUSER(uid, gid, setgroups)
    if uid != 0 and setgroups:
        # as non-root, expected permission error due to unprivileged gid_map
        with pytest.raises(GoError) as e:
            cmd.combined_output()
        assert "operation not permitted" in str(e.value) or "permission denied" in str(e.value)
        return
    out = cmd.combined_output()
    assert out.strip() == b"root"


def test_EmptyCredGroupsDisableSetgroups():
    cmd = whoami_NEWUSER(os.getuid(), os.getgid(), False)
    cmd.sys_proc_attr.credential = Credential()
    cmd.run()


def test_Unshare():
    path = "/proc/net/dev"
    orig = Path(path).read_text().strip()
    if "lo:" in orig and orig.count(":") == 1:
        pytest.skip("not enough network interfaces to test unshare with")
    cmd = exec.Command("cat", path)
    cmd.sys_proc_attr = SysProcAttr(unshareflags=CLONE_NEWNET)
    sout = cmd.combined_output().decode().strip()
    assert "lo:" in sout
    assert len(sout.split("\n")) < len(orig.split("\n"))


@pytest.mark.root
def test_GroupCleanup():
    cmd = exec.Command("id")
    cmd.sys_proc_attr = SysProcAttr(credential=Credential(0, 0))
    out = cmd.combined_output().decode().strip()
    assert out.startswith("uid=0(root) gid=0(root)")


def test_GroupCleanupUserNamespace():
    cmd = exec.Command("id")
    uid, gid = os.getuid(), os.getgid()
    cmd.sys_proc_attr = SysProcAttr(
        cloneflags=CLONE_NEWUSER,
        credential=Credential(uid, gid),
        uid_mappings=[SysProcIDMap(0, uid, 1)],
        gid_mappings=[SysProcIDMap(0, gid, 1)],
    )
    out = cmd.combined_output().decode().strip()
    assert out.startswith("uid=0(root) gid=0(root) groups=0(root)")


@pytest.mark.root
def test_UnshareMountNameSpace(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    cmd = exec.Command(*EXE, "mount-proc", str(d))
    cmd.sys_proc_attr = SysProcAttr(unshareflags=CLONE_NEWNS)
    out = cmd.combined_output()
    assert out == b"", f"unexpected output from helper process: {out!r}"
    # If the namespace was not unshared, the mount is still there and rmdir fails with EBUSY.
    os.rmdir(d)


@pytest.mark.root
def test_UnshareMountNameSpaceChroot():
    """Go builds a static test binary into the chroot; a static busybox does the helper's mount."""
    busybox = _static_busybox()
    d = tempfile.mkdtemp(prefix="nsport-chroot-")
    try:
        x = os.path.join(d, "busybox")
        shutil.copy(busybox, x)
        cmd = exec.Command("/busybox", "mount", "-t", "proc", "none", "/")
        cmd.path = "/busybox"
        cmd.sys_proc_attr = SysProcAttr(chroot=d, unshareflags=CLONE_NEWNS)
        out = cmd.combined_output()
        assert out == b"", f"unexpected output from helper process: {out!r}"
        # Still mounted on (namespace not unshared): the rm fails.
        os.remove(x)
        os.rmdir(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_UnshareUidGidMapping():
    """Go skips this as root (it exercises an unprivileged user namespace); here, as root, it runs as nobody.

    Go's helper chroots to the temporary directory; a static busybox does, from a directory nobody can read.
    """
    busybox = _static_busybox()
    d = tempfile.mkdtemp(prefix="nsport-uidgid-")
    try:
        os.chmod(d, 0o755)
        shutil.copy(busybox, os.path.join(d, "busybox"))
        argv = [os.path.join(d, "busybox"), "chroot", d, "/busybox", "true"]
        if os.getuid() != 0:
            _uid_gid_mapping_cmd(argv).combined_output()
            return
        import subprocess

        from tests.support import matrix

        if problem := matrix.nobody_problem():
            pytest.skip(problem)
        code = (
            "import sys\n"
            "from tests.go_upstream.test_syscall_exec_linux import _uid_gid_mapping_cmd\n"
            "_uid_gid_mapping_cmd(sys.argv[1:]).combined_output()\n"
        )
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                               sys.executable, "-c", code, *argv], capture_output=True, timeout=30)  # fmt: skip
        assert proc.returncode == 0, proc.stderr.decode()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _uid_gid_mapping_cmd(argv: list[str]) -> exec.Cmd:
    cmd = exec.Command(*argv)
    cmd.sys_proc_attr = SysProcAttr(
        unshareflags=CLONE_NEWNS | CLONE_NEWUSER,
        gid_mappings_enable_setgroups=False,
        uid_mappings=[SysProcIDMap(0, os.getuid(), 1)],
        gid_mappings=[SysProcIDMap(0, os.getgid(), 1)],
    )
    return cmd


def _static_busybox() -> str:
    busybox = shutil.which("busybox")
    if busybox is None or not machine.is_static(busybox):
        what = f"{busybox} is not static" if busybox else "busybox not found"
        pytest.skip(f"needs a static busybox: {what}: apt-get install busybox-static")
    return busybox


def _prepare_cgroup_fd():
    """Go: prepareCgroupFD: a sub-cgroup of our own (cgroup v2 only), opened O_PATH."""
    self_cg = Path("/proc/self/cgroup").read_bytes()
    if self_cg.count(b"\n") > 1:
        pytest.skip("cgroup v2 not available")
    if not self_cg.startswith(b"0::"):
        pytest.skip(f"cgroup v2 not available (/proc/self/cgroup contents: {self_cg!r})")
    sub = tempfile.mkdtemp(prefix="subcg-", dir="/sys/fs/cgroup" + self_cg[3:].strip().decode())
    fd = os.open(sub, 0x200000)  # O_PATH
    return fd, sub


@pytest.mark.root
def test_UseCgroupFD():
    fd, sub = _prepare_cgroup_fd()
    try:
        cmd = exec.Command(*EXE, "print-file", "/proc/self/cgroup")
        cmd.sys_proc_attr = SysProcAttr(use_cgroup_fd=True, cgroup_fd=fd)
        out = cmd.combined_output()
        assert out.strip().endswith(b"/" + os.path.basename(sub).encode())
    finally:
        os.close(fd)
        os.rmdir(sub)


def test_CloneTimeNamespace():
    if not os.path.exists("/proc/self/ns/time"):
        pytest.skip("skipping, CLONE_NEWTIME not supported (no /proc/self/ns/time)")
    cmd = exec.Command(*EXE, "readlink", "/proc/self/ns/time")
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWTIME)
    out = cmd.combined_output()
    assert out.decode() != os.readlink("/proc/self/ns/time")


def _test_pid_fd(userns: bool) -> None:
    cmd = exec.Command(*EXE, "go-sleep", "3600")
    cmd.sys_proc_attr = SysProcAttr(pid_fd=[-1], cloneflags=CLONE_NEWUSER if userns else 0)
    cmd.start()
    pidfd = cmd.sys_proc_attr.pid_fd[0]
    try:
        if pidfd == -1:
            pytest.skip("pidfd not supported")
        sig = signal.SIGINT
        wait_until_runtime_is_go(cmd.process.pid)
        signal.pidfd_send_signal(pidfd, sig)
        with pytest.raises(exec.ExitError):
            cmd.wait()
        assert cmd.process_state is not None and os.WTERMSIG(cmd.process_state.sys()) == sig
    finally:
        if cmd.process_state is None:
            cmd.process.kill()
            cmd.wait()
        if pidfd >= 0:
            os.close(pidfd)


def test_PidFD():
    _test_pid_fd(False)


def test_PidFDWithUserNS():
    _test_pid_fd(True)


@pytest.mark.skip(reason="Go runtime internal: syscall.ForceClone3 makes Go's every start a clone3; the port "
                  "takes clone3 only where Go does without it (CLONE_INTO_CGROUP, CLONE_NEWTIME)")  # fmt: skip
def test_PidFDClone3():
    pass


CAP_SYS_TIME, CAP_SYSLOG = 25, 34
# Go's helper reads its capabilities with capget; sh reads CapEff (so that nobody can run it).
CAPS_HELPER = (
    'e=$(sed -n "s/^CapEff:\\t//p" /proc/self/status); '
    '[ $(( (0x$e >> 25) & 1 )) = 1 ] || { echo "CAP_SYS_TIME unexpectedly not in the effective capability mask" >&2; exit 2; }; '  # noqa: E501
    '[ $(( (0x$e >> 34) & 1 )) = 1 ] || { echo "CAP_SYSLOG unexpectedly not in the effective capability mask" >&2; exit 2; }'  # noqa: E501
)


def _test_ambient_caps(userns: bool) -> None:
    try:
        u = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("skipping: the nobody user does not exist; see Issue 71644")
    cmd = exec.Command("/bin/sh", "-c", CAPS_HELPER)
    cmd.stdout, cmd.stderr = 1, 2
    cmd.sys_proc_attr = SysProcAttr(credential=Credential(u.pw_uid, u.pw_gid), ambient_caps=(CAP_SYS_TIME, CAP_SYSLOG))
    if userns:
        nobody = 65534
        cmd.sys_proc_attr.cloneflags = CLONE_NEWUSER
        cmd.sys_proc_attr.uid_mappings = [SysProcIDMap(nobody, os.getuid(), 1)]
        cmd.sys_proc_attr.gid_mappings = [SysProcIDMap(nobody, os.getgid(), 1)]
        cmd.sys_proc_attr.credential = Credential(nobody, nobody)
    try:
        cmd.run()
    except GoError as e:
        if syscall_is_not_supported(e) and os.getuid() != 0:
            pytest.skip(f"skipping: {cmd}: {e}")
        raise


@pytest.mark.root
def test_AmbientCaps():
    _test_ambient_caps(False)


def test_AmbientCapsUserns():
    knob = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
    if knob.exists() and knob.read_text().strip() == "1":
        pytest.skip("AppArmor restriction for unprivileged user namespaces is enabled")
    _test_ambient_caps(True)
