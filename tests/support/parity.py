"""Run the probes under each launcher and line the results up.

    results = run_all([GO, PY])        # one pty session per launcher
    rows = compare(results)            # per probe: facts per launcher, match

The results are plain data (dicts of strings, booleans and numbers), so the
terminal table, the reports and the tests are views of the same thing.
"""

import re

import pexpect

from tests.support.launchers import Launcher
from tests.support.probe import Context, Host, NotRun, Probe, host_view, not_run_facts
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


def _not_run(probe: Probe, ctx: Context, reason: str, facts: tuple[str, ...] = ()) -> dict:
    """The observation of a probe that did not run (or not all of it), with the reason."""
    return {"output": f"(not run: {reason})", "status": None, "look": None,
            "facts": not_run_facts(probe, ctx, reason, facts), "not_run": dict(ctx.not_run)}  # fmt: skip


def _start(launcher: Launcher) -> ShellSession:
    sh = ShellSession(launcher)
    sh.__enter__()  # closes what it started if it fails
    return sh


def _one(sh: ShellSession, probe: Probe, ctx: Context) -> tuple[dict, bool]:
    """Run one probe in the session: (observation, whether the session is lost)."""
    ctx.not_run = {}
    lost = False
    try:
        try:
            if probe.before:
                probe.before(ctx)
        except NotRun as e:
            if not e.facts:
                return _not_run(probe, ctx, e.reason), False
            ctx.skip(e.reason, *e.facts)
        except Exception as e:  # noqa: BLE001 - the host side failed: the probe did not run, and says why
            return _not_run(probe, ctx, f"its host side failed: {type(e).__name__}: {e}"), False
        try:
            seen = _observe(sh, probe, ctx)
        except SessionError as e:
            lost = True
            if e.timed_out:  # nothing was measured
                return _not_run(probe, ctx, f"the shell gave no answer within {sh.timeout:g} s"), lost
            # the shell (or the launcher) ended: what the probe saw, as a fact
            seen = {"output": f"(no answer: {str(e).splitlines()[0]})", "status": None}
        try:
            seen["look"] = probe.look(ctx) if probe.look else None
        except NotRun as e:
            seen["look"] = f"(not run: {e.reason})"
            if not e.facts:
                return {**_not_run(probe, ctx, e.reason), "output": seen["output"]}, lost
            ctx.skip(e.reason, *e.facts)
    finally:
        if probe.after:
            probe.after(ctx)
    facts = probe.facts(seen["output"], ctx)
    for key in ctx.not_run:
        facts[key] = None  # not measured: no value, whatever the reducer made of nothing
    seen["facts"], seen["not_run"] = facts, dict(ctx.not_run)
    return seen, lost


def observe(launcher: Launcher, probes: list[Probe] = PROBES, host: Host | None = None) -> dict[str, dict]:
    """Run each probe in a pty session of launcher; {probe name: observation}.

    An observation is {"output", "status", "look", "facts", "not_run"}; not_run
    maps each fact that could not be measured to the reason. A probe that ends
    the shell unexpectedly is recorded as such and a new session carries on; a
    session that does not start, or a shell that stops answering, leaves the
    probes it did not run as not run.
    """
    host = host or Host()
    results: dict[str, dict] = {}
    todo = list(probes)
    while todo:
        try:
            sh = _start(launcher)
        except (SessionError, TimeoutError, pexpect.ExceptionPexpect) as e:  # no prompt, no sh, no program
            why = getattr(e, "last_line", "") or str(e).splitlines()[0]
            how = "timed out" if getattr(e, "timed_out", True) else "it ended"
            reason = f"{launcher.name} gave no shell ({how}: {why})"
            for probe in todo:
                results[probe.name] = _not_run(probe, Context(host), reason)
            break
        try:
            ctx = Context(host, sh.child.pid, sh.sh_pid, {"banner": sh.banner})
            while todo:
                probe = todo.pop(0)
                results[probe.name], lost = _one(sh, probe, ctx)
                if lost or probe.ends_session:
                    break  # a new session for what is left
        finally:
            sh.close()
    return results


def run_all(launchers: list[Launcher], probes: list[Probe] = PROBES, host: Host | None = None) -> dict:
    """Observe every launcher plus the host's own view (against host, a fresh baseline by default); the
    report's raw data."""
    host = host or Host()
    hosts = {p.name: host_view(p, host) for p in probes}
    return results(launchers, {lc.name: observe(lc, probes, host) for lc in launchers}, host, probes, hosts)


def results(launchers: list[Launcher], observations: dict, host: Host, probes: list[Probe] = PROBES,
            hosts: dict | None = None) -> dict:  # fmt: skip
    """The report's raw data from observations taken (launcher name -> observe()'s) and the host's own views
    (hosts; none: only the reports show them, compare() does not read them)."""
    return {
        "launchers": [lc.as_data() for lc in launchers],
        "commands": {p.name: p.text(host) for p in probes},  # as run, not the templates
        "host": {name: {"output": v[0], "facts": v[1]} for name, v in (hosts or {}).items() if v},
        "observations": observations,
    }


def select_probes(names: str) -> list[Probe]:
    """The probes named in a list (commas, spaces or both), in the suite's order; all of them for none."""
    named = [n for n in re.split(r"[,\s]+", names.strip()) if n]
    known = [p.name for p in PROBES]
    if unknown := [n for n in named if n not in known]:
        raise KeyError(f"unknown probe {unknown[0]!r}; known: {', '.join(known)}")
    return [p for p in PROBES if p.name in named] if named else list(PROBES)


def compare(results: dict, probes: list[Probe] = PROBES) -> list[dict]:
    """One row per probe: its command as run, every launcher's raw output and facts, its state.

    The first launcher is the reference. A fact that was not measured for the
    reference or for a launcher is *not verified* for that launcher (with the
    reason), and is not compared. A launcher's measured fact that differs from
    the reference's is *expected* when the launcher's entry says so (same
    fact, same value; `expected` holds it with the reason), else it *differs*.
    A row's state is differs, not verified, expected or match, in that order of
    precedence; `match` is true only for the last two.
    """
    names = [lc["name"] for lc in results["launchers"]]
    ref = names[0]
    rows = []
    for probe in probes:
        seen = {n: results["observations"][n][probe.name] for n in names}
        differs, expected, not_verified = {}, {}, {}
        ref_not_run = seen[ref].get("not_run", {})
        for n in names[1:]:
            own_not_run = seen[n].get("not_run", {})
            for key in dict.fromkeys([*seen[ref]["facts"], *seen[n]["facts"], *ref_not_run, *own_not_run]):
                missing = {w: nr[key] for w, nr in ((ref, ref_not_run), (n, own_not_run)) if key in nr}
                if missing:  # not measured on one side or both: not compared, and why
                    reasons = set(missing.values())
                    why = reasons.pop() if len(reasons) == 1 else "; ".join(f"{w}: {r}" for w, r in missing.items())
                    not_verified.setdefault(n, []).append({"fact": key, "who": list(missing), "reason": why})
                    continue
                if seen[ref]["facts"].get(key) == seen[n]["facts"].get(key):
                    continue
                value = seen[n]["facts"].get(key)
                why = next((e for e in _expected(results, n) if e["probe"] == probe.name and e["fact"] == key
                            and _covers(e, value)), None)  # fmt: skip
                if why:
                    expected.setdefault(n, []).append({"fact": key, "value": value, "why": why["why"]})
                else:
                    differs.setdefault(n, []).append(key)
        state = "differs" if differs else "not verified" if not_verified else "expected" if expected else "match"
        rows.append({
            "name": probe.name,
            "about": probe.about,
            "command": results.get("commands", {}).get(probe.name, probe.command),
            "launchers": seen,
            "host": results["host"].get(probe.name),
            "differs": differs,
            "expected": expected,
            "not_verified": not_verified,
            "state": state,
            "match": state in ("match", "expected"),
        })  # fmt: skip
    return rows


def _expected(results: dict, name: str) -> list[dict]:
    return next((lc.get("expected", []) for lc in results["launchers"] if lc["name"] == name), [])


def _covers(expected: dict, value: object) -> bool:
    """Whether a launcher's value is the one its entry expects (a pattern matches whole)."""
    if expected.get("pattern") is not None:
        return isinstance(value, str) and re.fullmatch(expected["pattern"], value) is not None
    return value == expected["value"]
