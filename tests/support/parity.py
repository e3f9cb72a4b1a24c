"""Run the probes under each launcher and line the results up.

    results = run_all([GO, PY])        # one pty session per launcher
    rows = compare(results)            # per probe: facts per launcher, match

The results are plain data (dicts of strings, booleans and numbers), so the
terminal table, the reports and the tests are views of the same thing.
"""

import re

from tests.support.launchers import Launcher
from tests.support.probe import Context, Facts, Host, Probe, host_view
from tests.support.probes import PROBES
from tests.support.shell import SessionError, ShellSession


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
        "launchers": [lc.as_data() for lc in launchers],
        "commands": {p.name: p.text(host) for p in probes},  # as run, not the templates
        "host": {name: {"output": v[0], "facts": v[1]} for name, v in hosts.items() if v},
        "observations": {lc.name: observe(lc, probes, host) for lc in launchers},
    }


def compare(results: dict, probes: list[Probe] = PROBES) -> list[dict]:
    """One row per probe: its command as run, every launcher's raw output and facts, match.

    The first launcher is the reference. A launcher's fact that differs from
    the reference's is *expected* when the launcher's entry says so (same
    fact, same value; `expected` holds it with the reason), else it *differs*.
    `match` is true when no launcher differs unexpectedly.
    """
    names = [lc["name"] for lc in results["launchers"]]
    ref = names[0]
    rows = []
    for probe in probes:
        seen = {n: results["observations"][n][probe.name] for n in names}
        differs, expected = {}, {}
        for n in names[1:]:
            for key in _diff(seen[ref]["facts"], seen[n]["facts"]):
                value = seen[n]["facts"].get(key)
                why = next((e for e in _expected(results, n) if e["probe"] == probe.name and e["fact"] == key
                            and _covers(e, value)), None)  # fmt: skip
                if why:
                    expected.setdefault(n, []).append({"fact": key, "value": value, "why": why["why"]})
                else:
                    differs.setdefault(n, []).append(key)
        rows.append({
            "name": probe.name,
            "about": probe.about,
            "command": results.get("commands", {}).get(probe.name, probe.command),
            "launchers": seen,
            "host": results["host"].get(probe.name),
            "differs": differs,
            "expected": expected,
            "match": not differs,
        })  # fmt: skip
    return rows


def _expected(results: dict, name: str) -> list[dict]:
    return next((lc.get("expected", []) for lc in results["launchers"] if lc["name"] == name), [])


def _covers(expected: dict, value: object) -> bool:
    """Whether a launcher's value is the one its entry expects (a pattern matches whole)."""
    if expected.get("pattern") is not None:
        return isinstance(value, str) and re.fullmatch(expected["pattern"], value) is not None
    return value == expected["value"]


def _diff(ref: Facts, other: Facts) -> list[str]:
    return [key for key in dict.fromkeys([*ref, *other]) if ref.get(key) != other.get(key)]
