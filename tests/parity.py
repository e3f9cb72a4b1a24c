"""Run the probes under each launcher and line the results up.

    results = run_all([GO, PY])        # one pty session per launcher
    rows = compare(results)            # per probe: facts per launcher, match

The results are plain data (dicts of strings, booleans and numbers), so the
terminal table, the reports and the tests are views of the same thing.
"""

from tests.launchers import Launcher
from tests.probes import PROBES, Context, Facts, Host, Probe, host_view
from tests.shell import SessionError, ShellSession


def _observe(sh: ShellSession, probe: Probe, ctx: Context) -> dict:
    text = probe.text(ctx.host)
    if probe.ends_session:
        raw = sh.exit(text)
        ctx.scratch["exit status"] = sh.exitstatus if sh.signalstatus is None else f"signal {sh.signalstatus}"
        return {"output": raw, "status": None}
    output, status = sh.run(text)
    return {"output": output, "status": status}


def observe(launcher: Launcher, probes: list[Probe] = PROBES, host: Host | None = None) -> dict[str, dict]:
    """Run each probe in a pty session of launcher; {probe name: observation}.

    An observation is {"output", "status", "look", "facts"}. A probe that ends
    the shell unexpectedly is recorded as such and a new session carries on.
    """
    host = host or Host()
    results: dict[str, dict] = {}
    todo = list(probes)
    while todo:
        with ShellSession(launcher) as sh:
            ctx = Context(host, sh.child.pid, sh.sh_pid, {"banner": sh.banner})
            while todo:
                probe = todo.pop(0)
                if probe.before:
                    probe.before(ctx)
                lost = False
                try:
                    try:
                        seen = _observe(sh, probe, ctx)
                    except SessionError as e:
                        seen, lost = (
                            {"output": f"(no answer: {str(e).splitlines()[0]})", "status": None},
                            True,
                        )
                    seen["look"] = probe.look(ctx) if probe.look else None
                finally:
                    if probe.after:
                        probe.after(ctx)
                seen["facts"] = probe.facts(seen["output"], ctx)
                results[probe.name] = seen
                if lost or probe.ends_session:
                    break  # a new session for what is left
    return results


def run_all(launchers: list[Launcher], probes: list[Probe] = PROBES) -> dict:
    """Observe every launcher plus the host's own view; the report's raw data."""
    host = Host()
    hosts = {p.name: host_view(p, host) for p in probes}
    return {
        "launchers": [{"name": lc.name, "argv": list(lc.argv), "about": lc.about} for lc in launchers],
        "host": {name: {"output": v[0], "facts": v[1]} for name, v in hosts.items() if v},
        "observations": {lc.name: observe(lc, probes, host) for lc in launchers},
    }


def compare(results: dict, probes: list[Probe] = PROBES) -> list[dict]:
    """One row per probe: its command, every launcher's raw output and facts, match.

    The first launcher is the reference; `match` is true when every other
    launcher's facts equal the reference's, and `differs` names the facts that
    do not, per launcher.
    """
    names = [lc["name"] for lc in results["launchers"]]
    ref = names[0]
    rows = []
    for probe in probes:
        seen = {n: results["observations"][n][probe.name] for n in names}
        differs = {
            n: _diff(seen[ref]["facts"], seen[n]["facts"]) for n in names[1:] if seen[n]["facts"] != seen[ref]["facts"]
        }
        rows.append({
            "name": probe.name,
            "about": probe.about,
            "command": probe.command,
            "launchers": seen,
            "host": results["host"].get(probe.name),
            "differs": differs,
            "match": not differs,
        })  # fmt: skip
    return rows


def _diff(ref: Facts, other: Facts) -> list[str]:
    return [key for key in dict.fromkeys([*ref, *other]) if ref.get(key) != other.get(key)]
