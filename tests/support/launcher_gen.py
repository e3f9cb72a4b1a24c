"""Launcher command lines generated with hypothesis, good and bad, for the scenario engine.

A launcher scenario is {"kind": "launcher", "argv": [...]}: the argv after the
program's name, run under build/launcher-go and port.launcher with stdin from
/dev/null (tests/support/scenario.py). The options come from the launcher's own
grammar (its --help): each in either form ("--opt value", "--opt=value"), with
values drawn from good and bad ones, repeated, misplaced, unknown, or missing
their value at the end; then "--" or not, and a command or none.

What is never drawn, and why:
- ID maps without `--clone user` (Go's launcher deadlocks there, a declared
  difference: README, "How the port differs"); maps come only after a
  `--clone` that holds user, which a later option cannot take away.
- `--cgroup` on a real cgroup: the start would move the child into it, a change
  on the host; only a missing directory and a directory that is no cgroup.
- `--version`: it names the twin (Go or Python), by design.
- A command whose output depends on its pid or the time.
"""

from hypothesis import strategies as st

NAMESPACES = ("uts", "ipc", "pid", "ns", "user", "net", "cgroup", "time")
# Each value option's (good values, bad ones); a bad one is drawn one time in six.
VALUES = {
    "--clone": ((), ("", "bogus", "user,,net", "UTS", "net,", " pid")),  # good: a list of NAMESPACES
    "--unshare": ((), ("", "bogus", "user,,net", "UTS", "net,", " pid")),
    "--uid-map": (("0:0:1", "0:65534:1", "1:0:1", "0:0:0"), ("0:0", "a:b:c", "0:0:4294967296", "-1:0:1", "")),
    "--gid-map": (("0:0:1", "0:65534:1", "1:0:1", "0:0:0"), ("0:0", "a:b:c", "0:0:4294967296", "-1:0:1", "")),
    "--setgroups": (("allow", "deny"), ("yes", "")),
    "--credential": (("0:0", "65534:65534", "65534:65534:", "65534:65534:1,2"), ("1:x", "4294967296:0", "", "0:0:a")),
    "--pgid": (("0", "1", "99999"), ("-1", "x", "", "2147483648")),
    "--ctty": (("0", "1", "2", "99"), ("-1", "x", "", "2147483648")),
    "--pdeathsig": (("TERM", "SIGKILL", "kill", "9", "64"), ("65", "0", "SIGBOGUS", "")),
    "--chroot": (("/", "/nonexistent-nsport", "/tmp"), ("",)),
    "--ambient-caps": (("net_raw", "sys_admin,net_raw", "0", "63", "NET_RAW"), ("64", "bogus", "")),
    "--cgroup": (("/nonexistent-nsport", "/tmp"), ("",)),
    "--dir": (("/", "/nonexistent-nsport", "/tmp"), ("",)),
    "--strategy": (("raw-clone", "subreaper", "relay"), ("bogus", "")),
}
VALUED = tuple(o for o in VALUES if not o.endswith("-map"))
COMMANDS = (
    (),
    ("true",),
    ("false",),
    ("sh", "-c", "echo ok; id -u; id -G"),
    ("sh", "-c", "hostname; cat /proc/self/uid_map; exit 7"),
    ("/nonexistent-nsport/x",),
    ("no-such-command-nsport",),
    ("-x",),
)
FLAGS = tuple("--no-setgroups --setsid --setpgid --setctty --noctty --foreground --ptrace --pidfd --help -h - "
              "--bogus -x --clone".split())  # fmt: skip


def _value(draw, option: str) -> str:
    good, bad = VALUES[option]
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(bad))
    if not good:  # a namespace list
        return ",".join(draw(st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=3, unique=True)))
    return draw(st.sampled_from(good))


def _option(draw, option: str) -> list[str]:
    value = _value(draw, option)
    return [f"{option}={value}"] if draw(st.booleans()) else [option, value]


@st.composite
def launcher_scenarios(draw) -> dict:
    argv: list[str] = []
    if draw(st.booleans()):  # a user namespace, and then maps may follow
        argv += ["--clone", draw(st.sampled_from(("user", "user,uts,ipc,pid,ns,net", "user,pid,ns")))]
        for option in draw(st.lists(st.sampled_from(("--uid-map", "--gid-map", "--setgroups")), max_size=3)):
            argv += _option(draw, option)
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 3)) == 0:
            flag = draw(st.sampled_from(FLAGS))
            argv += [flag] if flag != "--clone" else []  # "--clone" alone: its value is missing, below
        else:
            argv += _option(draw, draw(st.sampled_from(VALUED)))
    command = list(draw(st.sampled_from(COMMANDS)))
    if not command and draw(st.booleans()):
        argv.append(draw(st.sampled_from(VALUED)))  # a value option at the very end: its value is missing
    elif draw(st.booleans()) or command[:1] == ["-x"]:
        argv.append("--")
    return {"kind": "launcher", "argv": argv + command}
