"""The environment a command gets: Go's dedupEnv, PWD from Dir, Cmd.Environ, and what the program holds."""

import ast
import json
import os
import subprocess
import sys

import pytest

from port import exec
from port.errors import GoError
from tests.support.paths import ROOT
from tests.support.piped import launch_both


@pytest.mark.parametrize(
    "env",
    [["==a", "=b"], ["=b", "==a"]],
    ids=["double-first", "single-first"],
)
def test_a_leading_equals_sign_belongs_to_the_key(env):
    """Go's dedupEnvCase: `i = strings.Index(kv[1:], "=") + 1` for an entry that starts with "=":
    "==a" has the key "=" and "=b" the key "", so both stay (Go 1.27 prints cmd.Environ() of
    Env ["==a" "=b"] as ["==a" "=b"], and of ["=b" "==a"] as ["=b" "==a"])."""
    cmd = exec.Command("true")
    cmd.env = env
    assert cmd.environ() == [e.encode() for e in env]


def test_entries_that_are_only_a_leading_equals_sign_share_the_empty_key():
    """Go: "=a" and "=b" both have the key "" (no second "="): the last wins (Go prints ["=b"])."""
    cmd = exec.Command("true")
    cmd.env = ["=a", "=b"]
    assert cmd.environ() == [b"=b"]


def test_keys_differing_in_case_are_different_variables_on_linux():
    """Go's dedupEnv is case-insensitive on Windows only: on Linux "a=1" and "A=2" both reach the child
    (Go 1.27 prints cmd.Environ() of Env ["a=1" "A=2"] as ["a=1" "A=2"])."""
    cmd = exec.Command("sh", "-c", 'printf "%s %s" "$a" "$A"')
    cmd.env = ["a=1", "A=2"]
    assert cmd.environ() == [b"a=1", b"A=2"]
    assert cmd.output() == b"1 2"


@pytest.mark.root
def test_without_proc_the_environment_is_what_the_program_holds():
    """Where /proc/self/environ cannot be read (no procfs), the port's syscall.Environ falls back to the
    program's environment as it is now, "key=value" for each entry, changes included."""
    script = (
        "import json, os\n"
        "from port import exec\n"
        "os.environ['NSPORT_ADDED'] = 'new'\n"
        "del os.environ['NSPORT_GONE']\n"
        "env = exec.environ()\n"
        "want = [k + b'=' + v for k, v in os.environb.items()]\n"
        "print(json.dumps([os.path.exists('/proc/self/environ'), sorted(e.decode() for e in env),\n"
        "                  sorted(e.decode() for e in want)]))\n"
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "NSPORT_GONE": "1", "NSPORT_KEPT": "2"}
    mount_proc_tmpfs = ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs none /proc && exec "$@"', "sh"]
    proc = subprocess.run([*mount_proc_tmpfs, sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=30)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    has_environ, got, want = json.loads(proc.stdout)
    assert not has_environ
    assert got == want
    assert "NSPORT_ADDED=new" in got and "NSPORT_KEPT=2" in got
    assert not [e for e in got if e.startswith("NSPORT_GONE=")]


def test_env_nul_rejected_before_fork():
    cmd = exec.Command("true")
    cmd.env = ["A=1\0"]
    with pytest.raises(GoError, match="exec: environment variable contains NUL"):
        cmd.run()


def test_env_last_value_wins_and_dir_sets_pwd(tmp_path):
    cmd = exec.Command("sh", "-c", 'echo "$A"; env')
    cmd.env = ["A=1", "B=x", "A=2"]
    out = cmd.output().decode().splitlines()
    assert out[0] == "2"
    assert "B=x" in out and "A=2" in out and "A=1" not in out
    cmd = exec.Command("sh", "-c", 'echo "$PWD"')
    cmd.dir = str(tmp_path)
    assert cmd.output() == f"{tmp_path}\n".encode()


def test_environ_with_a_dir_that_abs_cannot_resolve_leaves_out_pwd(tmp_path, monkeypatch):
    """Go's Cmd.Environ ignores the error of filepath.Abs(Dir) (Start reports it): with the current
    directory deleted, a relative Dir gives no PWD, and no error."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    monkeypatch.delenv("PWD", raising=False)
    gone.rmdir()
    cmd = exec.Command("true")
    cmd.dir = "sub"
    env = cmd.environ()
    assert not [e for e in env if e.startswith(b"PWD=")]
    with pytest.raises(GoError, match=r"^getwd: no such file or directory$"):
        cmd.start()


@pytest.mark.userns
@pytest.mark.parametrize("dir_arg", [None, ".", "sub", "/"], ids=["no-dir", "dot", "relative", "root"])
def test_pwd_in_the_childs_environment(dir_arg, tmp_path):
    """Read by the child from /proc/self/environ: sh would recompute $PWD itself."""
    (tmp_path / "sub").mkdir()
    env = {"PATH": os.environ["PATH"], "PWD": "/stale", "A": "1"}
    args = (["--dir", dir_arg] if dir_arg else []) + ["--", "cat", "/proc/self/environ"]
    out, err, status = launch_both(args, env=env, cwd=tmp_path)
    assert (err, status) == (b"", 0)
    entries = out.split(b"\0")[:-1]
    want = {None: "/stale", ".": str(tmp_path), "sub": str(tmp_path / "sub"), "/": "/"}[dir_arg]
    assert [e for e in entries if e.startswith(b"PWD=")] == [f"PWD={want}".encode()]  # the last value wins


@pytest.mark.userns
def test_pwd_not_added_when_env_is_set(tmp_path):
    """Go adds PWD only when Cmd.Env is nil, so an explicit environment is passed as is."""
    cmd = exec.Command("cat", "/proc/self/environ")
    cmd.env, cmd.dir = ["A=1"], str(tmp_path)
    assert cmd.output() == b"A=1\0"


@pytest.mark.userns
@pytest.mark.parametrize("lc_ctype", [None, "C.UTF-8", "C"], ids=["unset", "C.UTF-8", "C"])
def test_environment_as_started_not_as_cpython_coerced_it(lc_ctype):
    """CPython sets LC_CTYPE=C.UTF-8 in a C locale (PEP 538); Go passes the environment it got."""
    env = {"PATH": os.environ["PATH"], "B": "2"} | ({"LC_CTYPE": lc_ctype} if lc_ctype else {})
    out, err, status = launch_both(["--", "cat", "/proc/self/environ"], env=env)
    assert (err, status) == (b"", 0)
    assert sorted(out.split(b"\0")[:-1]) == sorted(f"{k}={v}".encode() for k, v in env.items())


CHANGES_ITS_ENVIRONMENT = """
import os
from port import exec
os.environ["A"] = "9"  # Go's os.Setenv: the child sees the new value in the old place
os.environ["NEW"] = "1"  # and a new name at the end
print(exec.environ())
"""


@pytest.mark.parametrize("lc_ctype", [None, "C"], ids=["unset", "C"])
def test_a_program_that_changes_its_environment_under_coercion(lc_ctype):
    """In a C locale CPython coerces LC_CTYPE; what the program then sets or adds still reaches environ(),
    and LC_CTYPE stays as started: Go's os.Environ after os.Setenv."""
    env = {"PATH": os.environ["PATH"], "A": "1", "B": "2"} | ({"LC_CTYPE": lc_ctype} if lc_ctype else {})
    out = subprocess.run([sys.executable, "-c", CHANGES_ITS_ENVIRONMENT], env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    started = [f"{k}={v}".encode() for k, v in env.items()]
    assert ast.literal_eval(out) == [e if not e.startswith(b"A=") else b"A=9" for e in started] + [b"NEW=1"]


def test_fork_exec_passes_the_env_list_as_it_is(tmp_path):
    """Go's syscall.ForkExec hands execve its Env list untouched: a repeated name, an entry without "="
    and one keyed "" all reach the child (os.execve takes a mapping, so the port builds the array)."""
    from port.exec_linux import ProcAttr, fork_exec

    out = tmp_path / "env"
    with out.open("wb") as f:
        attr = ProcAttr(env=(b"A=1", b"A=2", b"NOEQUALS", b"=C=3"), files=(0, f.fileno(), 2))
        pid = fork_exec("/usr/bin/env", ["env"], attr)
        _, status = os.waitpid(pid, 0)
    assert status == 0
    assert out.read_bytes() == b"A=1\nA=2\nNOEQUALS\n=C=3\n"


def test_fork_exec_with_repeated_names_alone(tmp_path):
    """Duplicates alone (every entry NAME=VALUE) still need the array: a mapping would keep one A."""
    from port.exec_linux import ProcAttr, fork_exec

    out = tmp_path / "env"
    with out.open("wb") as f:
        pid = fork_exec("/usr/bin/env", ["env"], ProcAttr(env=(b"A=1", b"A=2"), files=(0, f.fileno(), 2)))
        os.waitpid(pid, 0)
    assert out.read_bytes() == b"A=1\nA=2\n"
