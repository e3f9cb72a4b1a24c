"""The launcher's option grammar, as Go's launcher reads it (reference_go/launcher/main.go, parseArgs).

Repeated options (ORed, appended or the last one kept), empty values, what counts as a digit, a
value taken verbatim from the next argument, and which usage error comes first. Errors are
compared with build/launcher-go byte for byte (one start of each twin, milliseconds); what a
good command line sets is read from port.launcher.parse_args in-process, and where the child
shows it (ids, groups, ambient capabilities, working directory) compared with Go's child too.
"""

import pytest

from port import launcher
from port import sysprocattr as s
from port.sysprocattr import Credential, SysProcIDMap
from tests.support.paths import ROOT
from tests.support.piped import launch_both


def parse(*args: str) -> launcher.Config:
    return launcher.parse_args([*args, "true"])


def test_namespace_lists_and_repeats_are_ored():
    c = parse("--clone", "uts,IPC", "--clone=pid", "--unshare", "ns", "--unshare=Net,user")
    assert c.attr.cloneflags == s.CLONE_NEWUTS | s.CLONE_NEWIPC | s.CLONE_NEWPID
    assert c.attr.unshareflags == s.CLONE_NEWNS | s.CLONE_NEWNET | s.CLONE_NEWUSER
    every = parse("--clone", "uts,ipc,pid,ns,user,net,cgroup,time").attr.cloneflags
    assert every == (s.CLONE_NEWUTS | s.CLONE_NEWIPC | s.CLONE_NEWPID | s.CLONE_NEWNS | s.CLONE_NEWUSER | s.CLONE_NEWNET
                     | s.CLONE_NEWCGROUP | s.CLONE_NEWTIME)  # fmt: skip
    assert parse().attr.cloneflags == parse().attr.unshareflags == 0


def test_id_maps_are_appended_in_order():
    c = parse("--uid-map", "0:1000:1", "--uid-map=1:100000:65536", "--gid-map", "0:4294967295:1")
    assert c.attr.uid_mappings == [SysProcIDMap(0, 1000, 1), SysProcIDMap(1, 100000, 65536)]
    assert c.attr.gid_mappings == [SysProcIDMap(0, 4294967295, 1)]
    assert parse().attr.uid_mappings is None and parse().attr.gid_mappings is None  # Go: nil


def test_ambient_caps_accumulate_names_and_numbers():
    c = parse("--ambient-caps", "net_raw,CHOWN", "--ambient-caps=63,0,checkpoint_restore")
    assert c.attr.ambient_caps == (13, 0, 63, 0, 40)
    assert parse("--ambient-caps", "SYS_ADMIN,SysLog,Sys_Tty_Config").attr.ambient_caps == (21, 34, 26)


def test_credential_fields_and_group_lists():
    assert parse("--credential", "1:2").attr.credential == Credential(1, 2)  # Groups nil
    assert parse("--credential", "1:2:").attr.credential == Credential(1, 2, [])  # an empty list
    assert parse("--credential", "4294967295:0:3,04,5").attr.credential == Credential(4294967295, 0, [3, 4, 5])
    c = parse("--credential", "1:2:3", "--credential", "7:8")  # not repeatable: the last one counts
    assert c.attr.credential == Credential(7, 8)


def test_no_setgroups_applies_to_the_credential_wherever_it_stands():
    assert parse("--no-setgroups", "--credential", "1:2").attr.credential.no_set_groups is True
    assert parse("--credential", "1:2", "--no-setgroups").attr.credential.no_set_groups is True
    assert parse("--credential", "1:2").attr.credential.no_set_groups is False


def test_single_options_keep_their_last_value():
    c = parse("--pgid", "3", "--pgid=4", "--ctty", "0", "--setgroups", "allow", "--setgroups=deny",
              "--dir", "/a", "--dir=/b", "--chroot", "/c", "--pdeathsig", "HUP", "--pdeathsig", "9",
              "--strategy", "relay")  # fmt: skip
    assert (c.attr.pgid, c.attr.ctty, c.attr.gid_mappings_enable_setgroups) == (4, 0, False)
    assert (c.dir, c.attr.chroot, c.attr.pdeathsig, c.strategy) == ("/b", "/c", 9, "relay")
    assert parse("--setgroups", "deny", "--setgroups", "allow").attr.gid_mappings_enable_setgroups is True


def test_flags_and_defaults():
    c = parse()
    assert (c.no_set_groups, c.pidfd, c.cgroup_dir, c.dir, c.strategy) == (False, False, None, "", "raw-clone")
    flags = parse("--setsid", "--setpgid", "--setctty", "--noctty", "--foreground", "--ptrace", "--pidfd")
    a = flags.attr
    assert (a.setsid, a.setpgid, a.setctty, a.noctty, a.foreground, a.ptrace, flags.pidfd) == (True,) * 7
    assert parse("--cgroup", "/sys/fs/cgroup").cgroup_dir == "/sys/fs/cgroup"


def test_values_are_taken_verbatim():
    """Everything after the first "=", possibly empty; without "=", the next argument even if it starts with "-"."""
    assert parse("--dir=a=b").dir == "a=b"
    assert parse("--dir=").dir == "" and parse("--chroot=").attr.chroot == ""
    assert parse("--dir", "--setsid").dir == "--setsid"
    assert parse("--dir", "").dir == ""
    assert parse("--cgroup=").cgroup_dir == ""  # set, and empty: opening it fails later


@pytest.mark.parametrize(("value", "n"), [("0", 0), ("007", 7), ("2147483647", 2147483647)])
def test_numbers_are_ascii_digits(value, n):
    assert parse("--pgid", value).attr.pgid == n


@pytest.mark.parametrize("name", ["IOT", "sigiot", "6", "ABRT"])
def test_signal_aliases(name):
    assert parse("--pdeathsig", name).attr.pdeathsig == 6


@pytest.mark.parametrize(("name", "n"), [("1", 1), ("64", 64), ("poll", 29), ("SIGIO", 29), ("sys", 31)])
def test_signal_bounds_and_names(name, n):
    assert parse("--pdeathsig", name).attr.pdeathsig == n


def test_the_command_starts_at_the_first_non_option_or_after_double_dash():
    assert launcher.parse_args(["true", "--clone", "x"]).argv == ["true", "--clone", "x"]
    assert launcher.parse_args(["--setsid", "--", "--", "x"]).argv == ["--", "x"]
    assert launcher.parse_args(["--dir", "/", "sh", "-c", "x"]).argv == ["sh", "-c", "x"]
    assert launcher.parse_args(["--", "-h"]).argv == ["-h"]


# Each: a command line and the one usage error Go's launcher prints for it (the same from both twins).
ERRORS = [
    ["--pgid", "٣", "true"], ["--pgid", "+1", "true"], ["--pgid", " 1", "true"], ["--pgid", "1 ", "true"],
    ["--pgid", "", "true"], ["--pgid=", "true"], ["--ctty", "2147483648", "true"], ["--pgid", "1_0", "true"],
    ["--setsid=", "true"], ["--pidfd=x", "true"], ["--clone=", "true"], ["--clone", "uts,", "true"],
    ["--unshare", "", "true"], ["--uid-map=", "true"], ["--uid-map", "0:0:1:", "true"], ["--uid-map", ":0:1", "true"],
    ["--gid-map", "0::1", "true"], ["--gid-map", "0:0:", "true"], ["--gid-map", "0:0:٣", "true"],
    ["--credential", ":1", "true"], ["--credential", "1:", "true"], ["--credential", "1:2:3,", "true"],
    ["--credential", "1:2:,3", "true"], ["--credential", "1:2:x,3", "true"], ["--credential", "1", "true"],
    ["--credential", "4294967296:0", "true"], ["--credential", "0:4294967296", "true"],
    ["--ambient-caps", "", "true"], ["--ambient-caps", "net_raw,", "true"], ["--ambient-caps", "cap_chown", "true"],
    ["--ambient-caps", "chown,64", "true"], ["--pdeathsig", "", "true"], ["--pdeathsig", "65", "true"],
    ["--pdeathsig", "rtmin", "true"], ["--setgroups", "Allow", "true"], ["--setgroups=", "true"],
    ["--strategy", "raw_clone", "true"], ["--strategy="], ["--dir"], ["--pgid"], ["--setsid"], ["--"],
    ["--no-setgroups"], ["--no-setgroups", "--pgid", "x", "true"], ["--pgid", "x", "--bogus", "true"],
    ["--bogus", "--pgid", "x"], ["--no-setgroups", "--credential", "x", "true"], ["--clone", "bad", "--help"],
    ["--setsid=1", "--version"], ["--credential=1:2", "--no-setgroups"],
]  # fmt: skip


@pytest.mark.parametrize("args", ERRORS, ids=repr)
def test_usage_errors_are_gos(args):
    """The first bad argument wins, then --no-setgroups without --credential, then a missing command."""
    out, err, status = launch_both(args)
    assert (out, status) == (b"", 2)
    assert err.startswith(b"launcher: ") and err.count(b"\n") == 1
    with pytest.raises(launcher.UsageError) as e:
        launcher.parse_args(args)
    assert err == f"launcher: {e.value}\n".encode()


def test_what_the_child_gets_is_gos():
    """Credential with groups, ambient capabilities by name and number, and --dir, as the child sees them."""
    script = "id -u; id -g; id -G; pwd; grep -e ^CapAmb -e ^CapInh /proc/self/status"
    args = ["--credential", "0:0:7,3", "--ambient-caps", "net_raw", "--ambient-caps=2,setuid", "--dir=/proc",
            "--", "sh", "-c", script]  # fmt: skip
    out, err, status = launch_both(args)
    assert (err, status) == (b"", 0)
    lines = out.decode().splitlines()
    assert lines[:4] == ["0", "0", "0 3 7", "/proc"]
    assert lines[4:] == ["CapInh:\t0000000000002084", "CapAmb:\t0000000000002084"]  # bits 2, 7, 13


def test_cgroup_must_be_a_directory():
    """--cgroup opens DIR with O_DIRECTORY (Go: os.OpenFile(dir, O_RDONLY|O_DIRECTORY)): a file is refused, exit 2."""
    path = str(ROOT / "pyproject.toml")
    out, err, status = launch_both(["--cgroup", path, "true"])
    assert (out, err, status) == (b"", f"launcher: --cgroup: open {path}: not a directory\n".encode(), 2)
