"""The README's figures, from report snapshots the repository keeps (docs/figures/).

A figure is a block of README.md between `<!-- figure:NAME -->` and
`<!-- /figure:NAME -->`, written from docs/figures/NAME.json, which holds what
the figure needs of one run's report (reports/...json) with that run's date,
commit and load. `make figures` takes each report present in reports/ into its
snapshot (refusing a run that failed or ran only part of its work) and writes
the blocks; `make docs` writes the blocks from the snapshots as they are; and
scripts/gen_docs.py --check (tests/test_generated.py) fails when a block is not
what its snapshot gives. So every figure the README quotes there has its
source in the repository, with its circumstances beside it.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.mutants_map import killer_key
from tests.support.paths import REPORTS, ROOT

FIGURES_DIR = ROOT / "docs" / "figures"
BLOCK = re.compile(r"(<!-- figure:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /figure:(?P=name) -->)", re.S)


class FigureError(Exception):
    """A report that cannot become a figure: one line for the user."""


def _committed(commit: str) -> None:
    """A figure stands for a commit: a run of a tree with uncommitted changes stands for none."""
    if "uncommitted" in commit:
        raise FigureError("that run was of a tree with uncommitted changes")


def _load(load: dict | None) -> str:
    if not load:
        return "load not recorded"
    cores = f" on {load['cores']} cores" if load.get("cores") else ""
    return f"load average {load['before']} before, {load['after']} after{cores}"


# ---- make test -------------------------------------------------------------------------------------


def _keep_test(report: dict) -> dict:
    _committed(report["commit"])
    if report["failed"] or report["error"]:
        raise FigureError(f"that make test run had {report['failed']} failures and {report['error']} errors")
    if any(a == "-k" or a.startswith(("tests/", "tests:", "-k")) for a in report["args"]):
        raise FigureError(f"that make test run ran only part of the suite ({' '.join(report['args'])})")
    return report


def _render_test(s: dict) -> str:
    return (f"`make test` at commit `{s['commit']}` ({s['date']}, Python {s['python']}): **{s['passed']} passed, "
            f"{s['skipped']} skipped** in {s['seconds']} s of pytest{_cpu(s)}, {_load(s['load'])}.")  # fmt: skip


def _cpu(s: dict) -> str:
    """The machine's busy CPU-seconds over the run (runs recorded before 3 December 2026 lack them)."""
    return f" ({s['cpu_seconds']['busy']} CPU-seconds busy)" if "cpu_seconds" in s else ""


# ---- make fuzz -------------------------------------------------------------------------------------


def _keep_fuzz(report: dict) -> dict:
    _committed(report["run"].get("git commit", ""))
    v = report["verdict"]
    return {"counts": v["counts"], "state": v["state"], "seed": report["seed"], "run": report["run"],
            "kinds": [d["difference"] for d in report["divergences"]]}  # fmt: skip


def _render_fuzz(s: dict) -> str:
    c, run = s["counts"], s["run"]
    agree = c["scenarios"] - c["differs"] - c["not verified"]
    kinds = "".join(f"\n- {k}" for k in s["kinds"])
    return (f"`make fuzz FUZZ_N={c['drawn']}` at commit `{run.get('git commit', '?')}` ({run['date']}, seed "
            f"{s['seed']}, {run.get('seconds', '?')} s, {_load(run.get('load'))}): {c['scenarios']} distinct "
            f"scenarios, **{agree} agree, {c['differs']} differ** ({c['kinds']} kinds), "
            f"{c['not verified']} not verified.{kinds}")  # fmt: skip


# ---- make mutants ----------------------------------------------------------------------------------


def _keep_mutants(report: dict) -> dict:
    if any(row.get("pending") for row in report["files"].values()):
        raise FigureError("that make mutants run left mutants unrun (--resume it first)")
    _committed(report["run"]["commit"])
    if report["run"].get("limit"):
        raise FigureError("that make mutants run was a smoke run (--limit)")

    def named(m: dict) -> str:
        return f"`{m['file']}:{m['line']}` ({m['function'] or 'module'}) `{m['before']}` → `{m['after']}`"

    declared = [m for m in report["mutants"] if m.get("declared")]
    # Which test killed each mutant: make mutants runs it first next time (the order only, not the verdict).
    killed = {killer_key(m["file"], m["function"], m["before"], m["after"]): m["killed_by"]
              for m in report["mutants"] if m["outcome"] == "killed" and m.get("killed_by")}  # fmt: skip
    tests = sorted(set(killed.values()))
    return {"files": report["files"], "run": report["run"], "declared": len(declared),
            "killers": {"tests": tests, "by": {k: tests.index(t) for k, t in sorted(killed.items())}},
            "declared_not_surviving": [f"{named(m)}: {m['outcome']} by `{m['killed_by'] or 'a hang'}`"
                                       for m in declared if m["outcome"] in ("killed", "timeout")],
            "flaky_kills": [f"{named(m)}: {m['flaky_kill']}" for m in declared if m.get("flaky_kill")],
            "survivors": [named(m) for m in report["mutants"] if m["outcome"] == "survived"]}  # fmt: skip


def _render_mutants(s: dict) -> str:
    run, wrong = s["run"], s.get("declared_not_surviving", [])
    ran = (f"{s['declared']} declared equivalents were run, {s['declared'] - len(wrong)} survived"
           if "declared" in s else "every declared equivalent was run and survived")  # fmt: skip
    lines = [f"`make mutants` at commit `{run['commit']}` ({run['date']}, {run['jobs']} workers, {run['minutes']} "
             f"minutes{', ' + _load(run['load']) if run.get('load') else ''}); {ran}:", "",
             "| file | mutants | killed | survived | equivalent | timeouts | score |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for file, t in s["files"].items():
        lines.append(f"| `{file}` | {t['mutants']} | {t['killed']} | {t['survived']} | {t['equivalent']} | "
                     f"{t['timeout']} | {t['score']} % |")  # fmt: skip
    if wrong:
        lines += ["", f"Declared equivalent, and not surviving ({len(wrong)}):", "", *(f"- {w}" for w in wrong)]
    if s.get("flaky_kills"):
        lines += ["", f"Declared equivalent, killed once and surviving two runs since ({len(s['flaky_kills'])}):",
                  "", *(f"- {w}" for w in s["flaky_kills"])]  # fmt: skip
    if s.get("survivors"):
        lines += ["", f"Survivors ({len(s['survivors'])}):", "", *(f"- {m}" for m in s["survivors"])]
    return "\n".join(lines)


# ---- make bench ------------------------------------------------------------------------------------


def _keep_bench(report: dict) -> dict:
    v = report["verdict"]
    keep = ("target", "value", "low", "high", "wall", "state", "median")
    return {"verdict": {k: v[k] for k in ("state", "counts", "busy", "forced", "commit", "date", "load")},
            "targets": [{k: g[k] for k in keep if k in g} for g in v["targets"]]}  # fmt: skip


def _render_bench(s: dict) -> str:
    v = s["verdict"]
    load = {**v["load"], "before": v["load"]["before"], "after": v["load"]["after"]}
    c = v["counts"]
    lines = [f"`make bench` at commit `{v['commit']}` ({v['date']}, {_load(load)}"
             + (f"; **forced** although {v['busy']}" if v.get("forced") else "") + f"): **{v['state']}**, "
             f"{c['met']} of {c['targets']} targets met, {c['not met']} not met, {c['unclear']} unclear. CPU-time "
             "ratios, median (quartiles) of the round-by-round ratios, wall time's median beside:", "",
             "| target | CPU | wall | state |", "|---|---|---|---|"]  # fmt: skip
    for g in s["targets"]:
        if "ms above bare" in g["target"]:
            value = f"{g['value']} ms (median {g.get('median', '?')})"
        else:
            value = f"{g['value']}× ({g['low']}–{g['high']})"
        lines.append(f"| {g['target']} | {value} | {g['wall'] if g.get('wall') is not None else '–'} | {g['state']} |")
    return "\n".join(lines)


# ---- make goversions ------------------------------------------------------------------------------


def _keep_goversions(report: dict) -> dict:
    from tests.support import goversions_report

    rows = goversions_report.readme_rows(report)
    if rows is None:
        raise FigureError(
            f"that make goversions run covered {', '.join(report.get('releases', []))}, not every release"
        )
    meta = report["meta"]
    _committed(meta.get("git commit", ""))
    return {"headline": report["verdict"]["headline"], "releases": report["releases"],
            "run": {k: meta.get(k) for k in ("date", "git commit", "seconds", "downloaded")},
            "table": goversions_report.readme_table(rows)}  # fmt: skip


def _render_goversions(s: dict) -> str:
    run, releases = s["run"], ", ".join(s["releases"])
    return (f"`make goversions` at commit `{run['git commit']}` ({run['date']}, Go {releases}; {run['seconds']} s, "
            f"{run['downloaded']} downloaded): {s['headline']}.\n\n{s['table'].rstrip()}")  # fmt: skip


# ---- make matrix, make trace, make faults: a comparison script's meta (report.run_metadata, report.timing) --------


def _meta(report: dict, keys: tuple[str, ...] = ()) -> dict:
    """What every comparison figure keeps of its run: date, commit, seconds, load; refused when partial."""
    meta = report["meta"]
    _committed(meta.get("git commit", ""))
    if meta.get("only"):
        raise FigureError(f"that run was narrowed ({meta['only']})")
    if "seconds" not in meta or "load average" not in meta:
        raise FigureError("that report records no time or load (made before they were recorded)")
    return {k: meta[k] for k in ("date", "git commit", "seconds", "load average", *keys) if k in meta}


def _run_text(meta: dict) -> str:
    return (f"at commit `{meta['git commit']}` ({meta['date']}, {meta['seconds']} s, "
            f"load average {meta['load average']})")  # fmt: skip


def _verdict(report: dict) -> dict:
    """A comparison report's verdict as a figure keeps it: state, summary, and what differs or was not verified."""
    v = report["verdict"]
    return {k: v[k] for k in ("state", "summary", "differences", "not_verified")}


def _findings(v: dict) -> str:
    """What differs and what was not verified, a line each (nothing when everything was compared and agrees)."""
    lines = [f"\n- differs: {d}" for d in v["differences"]]
    lines += [f"\n- not verified: {n['where']}: {n['reason']}" for n in v["not_verified"]]
    return "".join(lines)


def _keep_matrix(report: dict) -> dict:
    return {"meta": _meta(report, ("launches",)), "verdict": _verdict(report)}


def _render_matrix(s: dict) -> str:
    v, meta = s["verdict"], s["meta"]
    return (f"`make matrix` {_run_text(meta)}: {meta['launches']} launches; **{v['state']}**: {v['summary']}."
            + _findings(v))  # fmt: skip


TRACE_LAUNCHERS = ["go", "py", "py-subreaper", "py-relay"]  # the Makefile's TRACE_LAUNCHERS


def _keep_trace(report: dict) -> dict:
    meta = _meta(report, ("traced starts per launcher",))
    names = [lc["name"] for lc in report["launchers"]]
    if names != TRACE_LAUNCHERS:
        raise FigureError(f"that make trace run traced {', '.join(names)}, not make trace's launchers")
    times = {lc["name"]: {k: lc["start_to_exec_ms"][k] for k in ("median", "min", "max")} | {
        "runs": len(lc["start_to_exec_ms"]["runs"])} for lc in report["launchers"]}  # fmt: skip
    rows = [{"port": c["port"], "state": c["state"], "differences": c.get("differences"),
             "unexplained": c.get("unexplained")} for c in report["comparisons"]]  # fmt: skip
    return {"meta": meta, "verdict": _verdict(report), "times": times, "comparisons": rows}


def _ms(t: dict) -> str:
    if t["median"] is None:
        return f"not timed ({t['runs']} runs)"
    return f"{t['median']:.1f} ms ({t['min']:.1f}–{t['max']:.1f}, {t['runs']} runs)"


def _render_trace(s: dict) -> str:
    v, meta, times = s["verdict"], s["meta"], s["times"]
    ref = next(iter(times))
    lines = [f"`make trace` {_run_text(meta)}: **{v['state']}**: {v['summary']}.{_findings(v)}", "",
             "First clone or fork to `execve(sh)` under strace (slower than real), median (range):", "",
             "| launcher | rows differing from Go's | unexplained | first clone or fork → `execve(sh)` |",
             "|---|---:|---:|---|", f"| `{ref}` (the reference) | – | – | {_ms(times[ref])} |"]  # fmt: skip
    for c in s["comparisons"]:
        lines.append(f"| `{c['port']}` | {c['differences']} | {c['unexplained']} | {_ms(times[c['port']])} |")
    return "\n".join(lines)


def _keep_faults(report: dict) -> dict:
    from tests.support import faults

    meta = _meta(report, ("families",))
    if meta.get("families") != ",".join(faults.FAMILIES):
        raise FigureError(f"that make faults run swept only {meta.get('families')}")
    runs = {lc["name"]: len(lc["runs"]) for lc in report["launchers"]}
    return {"meta": meta, "verdict": _verdict(report), "injections": runs}


def _render_faults(s: dict) -> str:
    v, meta = s["verdict"], s["meta"]
    per = ", ".join(f"`{name}` {n}" for name, n in s["injections"].items())
    return (f"`make faults` {_run_text(meta)}: **{v['state']}**: {v['summary']}. Injections per launcher: {per}."
            + _findings(v))  # fmt: skip


@dataclass(frozen=True)
class Figure:
    report: str  # its source, relative to reports/
    keep: Callable[[dict], dict]  # what the snapshot holds of the report (raises FigureError)
    render: Callable[[dict], str]  # the README block


FIGURES = {
    "test": Figure("test-run.json", _keep_test, _render_test),
    "fuzz": Figure("fuzz.json", _keep_fuzz, _render_fuzz),
    "mutants": Figure("mutants.json", _keep_mutants, _render_mutants),
    "bench": Figure("bench.json", _keep_bench, _render_bench),
    "goversions": Figure("goversions.json", _keep_goversions, _render_goversions),
    "matrix": Figure("matrix.json", _keep_matrix, _render_matrix),
    "trace": Figure("trace.json", _keep_trace, _render_trace),
    "faults": Figure("faults.json", _keep_faults, _render_faults),
}


def snapshot(reports: Path = REPORTS, figures_dir: Path = FIGURES_DIR) -> list[str]:
    """Take every report present into its snapshot; return what was taken or refused, a line each."""
    said = []
    figures_dir.mkdir(parents=True, exist_ok=True)
    for name, figure in FIGURES.items():
        source = reports / figure.report
        if not source.is_file():
            said.append(f"{name}: no {source} (kept the snapshot as it is)")
            continue
        try:
            kept = figure.keep(json.loads(source.read_text()))
        except FigureError as e:
            said.append(f"{name}: {source} not taken: {e}")
            continue
        (figures_dir / f"{name}.json").write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n")
        said.append(f"{name}: took {source}")
    return said


def fill(text: str, figures_dir: Path = FIGURES_DIR) -> tuple[str, list[str]]:
    """README text with every figure block written from its snapshot; and the problems found."""
    problems: list[str] = []

    def block(m: re.Match) -> str:
        name = m["name"]
        path = figures_dir / f"{name}.json"
        if name not in FIGURES:
            problems.append(f"README figure {name!r}: no such figure (tests/support/figures.py)")
            return m[0]
        if not path.is_file():
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            problems.append(f"README figure {name!r}: no snapshot {shown} (run make figures)")
            return m[0]
        return f"{m[1]}{FIGURES[name].render(json.loads(path.read_text()))}\n{m[4]}"

    return BLOCK.sub(block, text), problems
