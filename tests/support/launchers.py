"""The launchers the suite compares, as data: a name and the argv that starts one.

Every program that starts a process in new namespaces is named here once: the
notes pair (GO, PY, and the port under its other strategies), the SysProcAttr
launcher pair (LAUNCHER_GO, LAUNCHER_PY: every field set from options), the
fork_exec pair (FDMAP_GO, FDMAP_PY) and the third-party ones. Adding a launcher
is one entry here; `make parity LAUNCHERS=go,py,unshare,bwrap`
selects by name (select: go, the reference, always first). Each runs `sh` in new namespaces with fds 0-2 handed over.
A third-party launcher carries its expected differences from the reference
beside it: which fact, what value it shows, and why. A report shows those as
expected, with the reason; any other difference is a mismatch.
"""

import re
import shutil
from dataclasses import dataclass

from tests.support.paths import BUILD, PYTHON, program


@dataclass(frozen=True)
class Expected:
    """A difference from the reference that a launcher shows by design."""

    probe: str
    fact: str
    value: object  # what this launcher shows; a compiled re.Pattern matches str(value) whole
    why: str

    def as_data(self) -> dict:
        """Plain data for the reports: a pattern goes as "pattern", a value as "value"."""
        if isinstance(self.value, re.Pattern):
            return {"probe": self.probe, "fact": self.fact, "value": None, "pattern": self.value.pattern,
                    "why": self.why}  # fmt: skip
        return {"probe": self.probe, "fact": self.fact, "value": self.value, "pattern": None, "why": self.why}


@dataclass(frozen=True)
class Launcher:
    name: str
    argv: tuple[str, ...]
    about: str
    reference: bool = False  # the one the others are compared with
    expected: tuple[Expected, ...] = ()
    package: str = ""  # the Debian package that provides argv[0], when it is not ours

    def missing(self) -> str | None:
        """Why this launcher cannot run here ("bubblewrap (bwrap) not installed"), or None."""
        if self.package and shutil.which(self.argv[0]) is None:
            return f"{self.package} ({self.argv[0]}) not installed"
        return None

    def as_data(self) -> dict:
        return {"name": self.name, "argv": list(self.argv), "about": self.about,
                "expected": [e.as_data() for e in self.expected]}  # fmt: skip


# dash's "Cannot set tty process group" on exit from a pty; N counts the lines the shell read.
TTY_LINE = r"sh: \d+: Cannot set tty process group \(No such process\)\n"
NO_NOTES_LOG = (
    Expected("exit", "printed at start", "", "prints no banner: `main starting...` is the notes' own line"),
    Expected("exit", "printed when the shell ends", re.compile(TTY_LINE),
             "logs nothing: `exit status N` is the Go log line of the notes' `log.Fatal`"),
    Expected("exit", "launcher's exit status", 2,
             "exits with the shell's status (2); the notes' log.Fatal exits 1"),
)  # fmt: skip

GO = Launcher("go", (str(BUILD / "notes-go"),), "the notes' Go program (reference)", reference=True)
PY = Launcher("py", (PYTHON, "-m", "port.notes"), "the line-by-line Python port (RAW_CLONE, the default)")
UNSHARE = Launcher(
    "unshare",
    ("unshare", "--user", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "sh"),
    "util-linux unshare(1) with the same six namespaces",
    expected=(
        # Seen only where the host's / is shared (systemd): Go's copy of it is then a slave.
        Expected("mount", "propagation of /", "private", "unshare makes / private (its --propagation default)"),
        *NO_NOTES_LOG,
    ),
    package="util-linux",
)
BWRAP = Launcher(
    "bwrap",
    ("bwrap", "--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
     "--uid", "65534", "--gid", "65534", "--dev-bind", "/", "/", "sh"),
    "bubblewrap with the same six namespaces (a mount namespace is implied), as nobody, / bound to /",
    expected=(
        Expected("pid", "$$", "2", "bwrap's own reaper is PID 1 of the namespace, so sh is PID 2"),
        Expected("pstree", "process tree from the host", "launcher---bwrap---sh",
                 "bwrap forks its reaper (PID 1 inside), which forks sh"),
        Expected("pstree", "shell's pid inside (NSpid)", "2", "bwrap's own reaper makes sh PID 2"),
        Expected("id", "uid_map", "65534 0 1", "bwrap maps the --uid it is given to the caller's uid"),
        Expected("id", "gid_map", "65534 0 1", "bwrap maps the --gid it is given to the caller's gid"),
        Expected("id", "setgroups", "deny", "bwrap writes deny to /proc/self/setgroups before its gid_map"),
        Expected("id", "nested user namespace", "allowed",
                 "sh's uid is mapped, so it may make a user namespace; the notes' unmapped nobody may not"),
        Expected("net", "links", "lo=UNKNOWN", "bwrap brings lo up (state UNKNOWN is how lo reports up)"),
        # and so the network probes find a loopback that works (the host's still out of reach)
        Expected("loopback", "lo", "UNKNOWN", "bwrap brings lo up"),
        *(Expected("loopback", fact, re.compile(r"127\.0\.0\.1/8( ::1/128)?"), "bwrap brings lo up, with its addresses")
          for fact in ("lo's addresses", "lo's addresses after")),
        Expected("loopback", "127.0.0.1 inside (listen, connect)", "reached its own listener", "bwrap brings lo up"),
        Expected("loopback", "connect to the host's 127.0.0.1 listener", "connection refused",
                 "lo is up, and nothing listens on that port in bwrap's namespace"),
        Expected("ports", "connect to 127.0.0.1 on that port", "reached its own listener", "bwrap brings lo up"),
        Expected("signals", "shell survives kill -KILL $$ and kill -TERM $$", False,
                 "sh is not PID 1, so kill -KILL $$ ends it (a new session carries on)"),
        *NO_NOTES_LOG,
    ),
    package="bubblewrap",
)  # fmt: skip
PY_SUBREAPER = Launcher(
    "py-subreaper",
    (*program("variants"), "strategy=subreaper"),
    "the port with the SUBREAPER strategy: fork, unshare, fork, and the launcher adopts sh",
)
PY_RELAY = Launcher(
    "py-relay",
    (*program("variants"), "strategy=relay"),
    "the port with the RELAY strategy: a middle process stays between launcher and sh",
)
# The port with one namespace flag dropped: the suite must catch each.
BROKEN = {
    flag: Launcher(f"py-no-{flag.lower()}", (*program("variants"), f"drop={flag}"),
                   f"the port without CLONE_NEW{flag} (deliberately broken)")
    for flag in ("UTS", "IPC", "PID", "NS", "USER", "NET")
}  # fmt: skip
# The port whose child forgets to reset SIGUSR1, so sh starts with it ignored: make trace must catch it.
SIGUSR1_IGNORED = Launcher("py-sigusr1-ignored", (*program("variants"), "child-keeps=SIGUSR1"),
                           "the port whose child leaves SIGUSR1 ignored (deliberately broken)")  # fmt: skip
LAUNCHERS = {launcher.name: launcher for launcher in
             (GO, PY, UNSHARE, BWRAP, PY_SUBREAPER, PY_RELAY, *BROKEN.values(), SIGUSR1_IGNORED)}  # fmt: skip
# The pair every regression run compares; the third-party ones are for reports.
PAIR = (GO, PY)

# The SysProcAttr launchers: reference_go/launcher and port/launcher.py, whose
# options set every field (`--clone`, `--uid-map`, ...; both print --help).
LAUNCHER_GO = Launcher("launcher-go", (str(BUILD / "launcher-go"),), "the SysProcAttr launcher in Go", reference=True)
LAUNCHER_PY = Launcher("launcher-py", (PYTHON, "-m", "port.launcher"), "its Python twin")
# syscall.ForkExec and the port's fork_exec called directly with a files list
# (reference_go/fdmap, tests/programs/fdmap.py): DIR FILES -- COMMAND.
FDMAP_GO = Launcher("fdmap-go", (str(BUILD / "fdmap-go"),), "syscall.ForkExec with a files list", reference=True)
FDMAP_PY = Launcher("fdmap-py", program("fdmap"), "the port's fork_exec with a files list")
# The two pairs by language, for tests that run each with the same arguments.
NOTES = {"go": GO.argv, "py": PY.argv}
SYSPROCATTR = {"go": LAUNCHER_GO.argv, "py": LAUNCHER_PY.argv}
# A Go program that exits at once: the start-up cost make bench subtracts.
NULL_GO = Launcher("null-go", (str(BUILD / "null-go"),), "a Go program that exits at once")


def notes_at(path, name: str) -> Launcher:
    """The notes' Go program built elsewhere (make goversions: another Go release's build) as the reference."""
    return Launcher(name, (str(path),), f"the notes' Go program at {path}", reference=True)


def select(names: str) -> list[Launcher]:
    """The launchers named in a list (commas, spaces or both: "go, py"), each once, in the order named,
    with the reference always first: `go`, the notes' Go program, moves to the front and is added when
    not named, since every launcher's expected differences are declared against it."""
    chosen = [GO]
    for name in re.split(r"[,\s]+", names.strip()):
        if name and name not in LAUNCHERS:
            raise KeyError(f"unknown launcher {name!r}; known: {', '.join(LAUNCHERS)}")
        if name and LAUNCHERS[name] not in chosen:
            chosen.append(LAUNCHERS[name])
    return chosen


# The os/exec scenario interpreters (reference_go/scenario, tests/programs/scenario.py):
# one JSON scenario on stdin, a transcript on stdout (tests/support/scenario.py compares them).
SCENARIO_GO = Launcher("scenario-go", (str(BUILD / "scenario-go"),), "os/exec scenarios in Go", reference=True)
SCENARIO_PY = Launcher("scenario-py", program("scenario"), "os/exec scenarios over port.exec")
