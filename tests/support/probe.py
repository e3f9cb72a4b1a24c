"""What a probe is: the sh text sent to the shell inside, and how its answer becomes facts.

The probes themselves are data in tests/support/probes.py (the core ones) and
tests/support/netprobes.py (the network claims); both build on this module,
which knows no probe.

A fact is measured, or not run: a probe whose host side could not do its part
(the bridge's wiring as an ordinary user, a host-side hook that failed) says
so with `ctx.skip(reason, *facts)` or by raising `NotRun`; such a fact is
never compared, and a view shows it as not verified, with the reason.
"""

import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import hostguard

# The entries of /proc/self/ns.
NS_FILES = ("cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts")


def ns_lines(names) -> str:
    """Shell that prints "NAME: LINK" for each /proc/self/ns/NAME: one readlink for all of them, in order,
    or, when one cannot be read, each again on its own, so each error stays beside its name."""
    listed, paths = " ".join(names), " ".join(f"/proc/self/ns/{n}" for n in names)
    return (f'if links=$(readlink {paths}); then set -- {listed}; for l in $links; do echo "$1: $l"; shift; done\n'
            f'else for n in {listed}; do echo "$n: $(readlink /proc/self/ns/$n)"; done; fi\n')  # fmt: skip


Facts = dict[str, object]


@dataclass
class Host:
    """The host baseline the probes are read against, taken once per run."""

    hostname: str = field(default_factory=socket.gethostname)
    ns: dict[str, str] = field(default_factory=lambda: {n: os.readlink(f"/proc/self/ns/{n}") for n in NS_FILES})
    pid1: str = field(default_factory=lambda: Path("/proc/1/comm").read_text().strip())
    ipc_key: str = field(default_factory=lambda: hostguard.ipc_key())  # the host queue's, unique to the run


class NotRun(Exception):  # noqa: N818 - a state, as the reports name it
    """Raised by a probe's host-side hook: the probe (or the named facts) could not be measured."""

    def __init__(self, reason: str, facts: tuple[str, ...] = ()):
        super().__init__(reason)
        self.reason = reason
        self.facts = facts  # () means every fact of the probe


@dataclass
class Context:
    """What a probe's hooks and reducer may know about one run."""

    host: Host
    launcher_pid: int = 0  # the launcher's pid on the host
    sh_pid: int = 0  # the shell's pid on the host
    scratch: dict[str, object] = field(default_factory=dict)  # before -> after
    not_run: dict[str, str] = field(default_factory=dict)  # fact -> why it could not be measured

    def skip(self, reason: str, *facts: str) -> None:
        """These facts of the probe under way could not be measured, for this reason."""
        for fact in facts:
            self.not_run[fact] = reason


def not_run_facts(probe: "Probe", ctx: Context, reason: str, facts: tuple[str, ...] = ()) -> Facts:
    """A probe that did not run: its facts' names (from its reducer on no output), each marked not run."""
    try:
        keys = list(facts or probe.facts("", ctx))
    except Exception:  # noqa: BLE001 - a reducer that needs its output: the probe as a whole
        keys = ["(the probe)"]
    for key in keys:
        ctx.not_run.setdefault(key, reason)
    return dict.fromkeys(keys)


@dataclass(frozen=True)
class Probe:
    name: str
    command: str  # POSIX sh template, run inside; may span lines
    facts: Callable[[str, Context], Facts]  # (raw output, context) -> facts
    about: str = ""
    on_host: bool = False  # also run command on the host, for the report's host column
    before: Callable[[Context], None] | None = None  # host-side preparation
    look: Callable[[Context], str] | None = None  # host-side look while the shell lives
    after: Callable[[Context], None] | None = None  # host-side clean-up, always run
    ends_session: bool = False  # the command ends the shell (the last probe)

    def text(self, host: Host) -> str:
        return self.command.format(ns=host.ns, hostname=host.hostname, ipc_key=host.ipc_key)


def field_of(raw: str, label: str) -> str:
    """The value printed as "label: value" by a probe command, or "" if absent."""
    for line in raw.splitlines():
        if line.startswith(label + ": "):
            return line[len(label) + 2 :].strip()
    return ""


def own(ns_id: str, host_ns_id: str) -> str:
    """Name a namespace relation without its inode number."""
    if not ns_id:
        return "unreadable"
    return "host's" if ns_id == host_ns_id else "own"


def host_view(probe: Probe, host: Host) -> tuple[str, Facts] | None:
    """Run the probe's command on the host, if it runs there, and reduce it.

    Safe as root: every probe command that changes something first checks that
    it is in its own namespace, and on the host it is not.
    """
    if not probe.on_host:
        return None
    ctx = Context(host)
    try:
        if probe.before:
            probe.before(ctx)
        raw = subprocess.run(["sh", "-c", probe.text(host)], capture_output=True, text=True).stdout
        if probe.look:
            probe.look(ctx)
    except NotRun as e:
        return f"(not run on the host: {e.reason})", not_run_facts(probe, ctx, e.reason, e.facts)
    finally:
        if probe.after:
            probe.after(ctx)
    return raw, probe.facts(raw, ctx)
