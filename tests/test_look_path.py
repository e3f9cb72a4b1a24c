"""LookPath as Go's: found, not found, a slash in the name, a NUL, cleaned paths, the effective ids."""

import os

import pytest

from port import exec
from tests.support.piped import launch_both


def test_not_found_in_path():
    with pytest.raises(exec.Error) as e:
        exec.Command("no-such-command-nsport").run()
    assert str(e.value) == 'exec: "no-such-command-nsport": executable file not found in $PATH'


def executable(path, text="#!/bin/sh\necho ran $0\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


NOT_FOUND = "executable file not found in $PATH"


DOT = "cannot run executable found relative to current directory"


LOOK = {  # PATH, command name, what Go prints (stdout, stderr without the log time)
    "directory-skipped": lambda d: (f"{d}/a:{d}/b", "prog", f"ran {d}/b/prog\n", ""),
    "empty-entry-is-dot": lambda d: (f"/nonexistent::{d}/b", "prog", "", f'exec: "prog": {DOT}\n'),
    "leading-empty-entry": lambda d: (f":{d}/b", "prog", "", f'exec: "prog": {DOT}\n'),
    "leading-double-slash": lambda d: (f"/{d}/b", "prog", f"ran {d}/b/prog\n", ""),
    "dots-and-trailing-slash": lambda d: (f"{d}/a/../b/", "prog", f"ran {d}/b/prog\n", ""),
    "quoted-name": lambda d: (
        f"{d}/b",
        'no"such\tname\x01\u00a0\u00e9',
        "",
        f'exec: "no\\"such\\tname\\x01\\u00a0\u00e9": {NOT_FOUND}\n',
    ),
    "path-unset": lambda d: (None, "prog", "", f'exec: "prog": {NOT_FOUND}\n'),  # no default path, no "."
}


@pytest.mark.userns
@pytest.mark.parametrize("case", LOOK.values(), ids=LOOK.keys())
def test_look_path_as_go(case, tmp_path):
    """Go's LookPath: directories skipped, "" is ".", Clean()ed paths, strconv.Quote'd names."""
    (tmp_path / "a" / "prog").mkdir(parents=True)  # a directory named like the command
    executable(tmp_path / "b" / "prog")
    executable(tmp_path / "prog")  # found only through "."
    path, name, stdout, stderr = case(tmp_path)
    env = {} if path is None else {"PATH": path}
    out, err, status = launch_both(["--", name], env=env, cwd=tmp_path)
    assert (out.decode(), err.decode(), status) == (stdout, stderr, 1 if stderr else 0)


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("/tmp/a\x00b", 'exec: "/tmp/a\\x00b": stat /tmp/a\x00b: invalid argument'),
        ("a\x00b", f'exec: "a\\x00b": {NOT_FOUND}'),
    ],
)
@pytest.mark.userns
def test_look_path_of_a_name_with_a_nul(name, want):
    """Go's stat of a path with a NUL fails with EINVAL before any syscall; LookPath returns that for a
    name with a slash and, searching PATH, goes on to the next entry. (Go 1.27 prints these two.)"""
    with pytest.raises(exec.Error) as e:
        exec.look_path(name)
    assert str(e.value) == want


@pytest.mark.userns
def test_look_path_found_path_is_cleaned(tmp_path):
    """The path Go runs is Clean()ed: a leading // becomes /, as the exec error shows."""
    executable(tmp_path / "b" / "prog", text="not a program\n")
    out, err, status = launch_both(["--", "prog"], env={"PATH": f"/{tmp_path}/b/./"})
    assert (out, err, status) == (b"", f"fork/exec {tmp_path}/b/prog: exec format error\n".encode(), 1)


@pytest.mark.userns
def test_look_path_with_a_slash_checks_only_that_file(tmp_path):
    """Go: LookPath("dir/name") stats that file alone: missing, a directory, not executable."""
    executable(tmp_path / "ok")
    (tmp_path / "plain").write_text("")
    assert exec.look_path(f"{tmp_path}/ok") == f"{tmp_path}/ok"
    cases = {
        f"{tmp_path}/missing": f"stat {tmp_path}/missing: no such file or directory",
        str(tmp_path): "is a directory",
        f"{tmp_path}/plain": "permission denied",
    }
    for name, why in cases.items():
        with pytest.raises(exec.Error) as e:
            exec.look_path(name)
        assert str(e.value) == f'exec: "{name}": {why}'
    for name in ("", ".", ".."):
        with pytest.raises(exec.Error, match="executable file not found in"):
            exec.look_path(name)


@pytest.mark.userns
def test_command_with_a_slash_is_not_looked_up(tmp_path):
    """Go: Command looks a bare name up in PATH at once; "./x" or "/x" is started as it is."""
    script = executable(tmp_path / "prog")
    cmd = exec.Command(str(script))
    assert (cmd.path, cmd.err) == (str(script), None)
    assert cmd.output() == f"ran {script}\n".encode()


@pytest.mark.userns
@pytest.mark.root
def test_look_path_checks_the_effective_ids(tmp_path):
    """Go's LookPath asks eaccess (the effective ids): with only the real uid changed to nobody, a command
    only root may run is still found."""
    executable(tmp_path / "bin" / "prog").chmod(0o700)
    tmp_path.chmod(0o755)
    real_nobody = ("setpriv", "--ruid", "65534", "--rgid", "65534", "--clear-groups")
    env = {"PATH": f"{tmp_path}/bin:{os.environ['PATH']}"}
    out, err, status = launch_both(["--", "prog"], env=env, prefix=real_nobody)
    assert (out, err, status) == (f"ran {tmp_path}/bin/prog\n".encode(), b"", 0)


@pytest.mark.userns
def test_quoting_at_the_escape_boundaries():
    """strconv.Quote's edges: \\x7f is \\x, U+0080 and U+FFFF are \\u, beyond is \\U, and bytes that are
    not UTF-8 (0x80 and 0xff, the ends of the range) are \\x."""
    name = b"a\x7f\xc2\x80\xef\xbf\xbf\xf3\xa0\x80\x81\x80\xffz"
    out, err, status = launch_both([b"--", name])
    assert (out, status) == (b"", 1)
    assert err == b'exec: "a\\x7f\\u0080\\uffff\\U000e0001\\x80\\xffz": executable file not found in $PATH\n'
