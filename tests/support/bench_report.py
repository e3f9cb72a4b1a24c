"""Views of one make bench run: the terminal (verdict first, then tables), Markdown, SVG plots, progress.

All of them are made from the report `tests.support.bench.measure` returns
(plain data, what reports/bench.json holds); none runs anything. The terminal
tables fit the console's width (COLUMNS, else the terminal's, else 80), the
plots are self-contained SVG (no script from anywhere: pygal's tooltips are
off), and a difference whose quartiles include zero is shown as
"no measurable cost", never as a bar that reads like a result.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pygal
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from tests.support import bench_verdict as bv
from tests.support.bench import FLAGS
from tests.support.paths import TEMPLATES

STATE_STYLE = {"met": "green", "not met": "red", "unclear": "yellow", "not judged": "dim", "busy": "red"}


# --- progress ------------------------------------------------------------------------


class Progress:
    """Where a run is: rich progress bars on a terminal, else one line per stage, as each starts."""

    def __init__(self, console: Console, stages: int):
        self.console, self.stages, self.done = console, stages, 0
        self.bars: RichProgress | None = None

    def __enter__(self) -> "Progress":
        if self.console.is_terminal:
            self.bars = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
            )
            self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bars:
            self.bars.stop()

    @contextmanager
    def stage(self, label: str, total: int) -> Iterator[Callable[[], None]]:
        self.done += 1
        text = f"[{self.done}/{self.stages}] {label}"
        if self.bars is None:
            self.console.print(f"bench {text}", markup=False, highlight=False, soft_wrap=True)
            yield lambda: None
            return
        task = self.bars.add_task(text, total=total)
        yield lambda: self.bars.advance(task)
        self.bars.update(task, completed=total)

    def warn(self, message: str) -> None:
        self.console.print(f"bench: {message}", style="yellow", markup=False, highlight=False, soft_wrap=True)


# --- formats -------------------------------------------------------------------------


def number(x: float, digits: int = 1) -> str:
    """x to digits places, a negative one with a true minus (−0.3), and no minus before a zero (-0.04 is 0.0)."""
    text = f"{x:.{digits}f}"
    if text.startswith("-"):
        return text[1:] if float(text) == 0 else "−" + text[1:]
    return text


def spread(s: dict, digits: int = 1) -> str:
    """A median with its quartiles: 16.9 (16.6–17.2)."""
    if not s:
        return "–"
    return f"{number(s['median'], digits)} ({number(s['p25'], digits)}–{number(s['p75'], digits)})"


def cost(s: dict) -> str:
    """A difference: its median and quartiles, after "no measurable cost" when they include zero
    (or "measurably less" when both are below it)."""
    if not s:
        return "–"
    reading = bv.cost_class(s)
    return spread(s) if reading == "cost" else f"{bv.COST_LABELS[reading]} {spread(s)}"


def goal_value(g: dict) -> str:
    if g["value"] is None:
        return "–"
    if g["limit"] == bv.TARGET_IMPORT_MS:  # the fastest runs, and the medians
        return f"{number(g['value'])} ms (median {number(g['median'])})"
    return f"{g['value']:.2f}× ({g['low']:.2f}–{g['high']:.2f})"


def goal_state(g: dict) -> str:
    if g["state"] == "met" and g.get("long_term"):
        return f"met, also the long-term {bv.LONG_TERM_SETUP_RATIO}×"
    return g["state"]


def _label(key: str) -> str:
    """A ratio's JSON key as a column header: setup_cpu_vs_go_relay -> setup cpu ÷ Go relay."""
    return key.replace("_vs_go", " ÷ Go").replace("_vs_notes", " ÷ notes").replace("_", " ")


# --- terminal ------------------------------------------------------------------------


def _table(title: str, *columns: str) -> Table:
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True
    )
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right", overflow="fold")
    return table


def tables(report: dict) -> list:
    """The verdict, then the tables: targets, launch to exit, flags, imports (what the terminal shows)."""
    v = report["verdict"]
    out: list = [f"[bold {STATE_STYLE[v['state']]}]{bv.headline(v)}", bv.circumstances(v)]
    goals = _table(
        "Targets: CPU ratio, median (quartiles) by round; imports: fastest (median)", "target", "this run", "state"
    )
    for g in v["targets"]:
        goals.add_row(g["target"], goal_value(g), f"[{STATE_STYLE[g['state']]}]{goal_state(g)}")
    out.append(goals)
    launch = _table("Launch to exit, ms: median (quartiles)", "target", "CPU", "setup CPU", "wall")
    odd = []
    for name, row in report["launch"].items():
        if not row["status_ok"]:
            odd.append(f"{name} exited {','.join(map(str, row['statuses']))}")
        launch.add_row(
            name + ("" if row["status_ok"] else " [red]![/]"),
            spread(row["cpu"]),
            cost(row.get("setup_cpu", {})),
            spread(row["wall"]),
        )
    out.append(launch)
    if odd:
        out.append(f"[red]! unexpected exit status: {'; '.join(odd)}")
    if report["flags"]:
        flags = _table(
            f"One flag alone, CPU ms over none: median (quartiles), {report['settings']['flag_runs']} rounds",
            "flag",
            "go launcher",
            f"py{report['settings']['flags_python']} launcher",
        )
        for f in FLAGS:
            flags.add_row(f, *(cost(report["flags"][f"{rt} {f}"]["setup_cpu"]) for rt in ("go", "py")))
        out.append(flags)
    imports = _table("Imports above bare, ms: fastest (median)", "python", "bare", "notes", "launcher")
    for ver, imp in report["imports"].items():
        imports.add_row(
            ver,
            spread(imp["bare"]),
            *(
                f"+{number(imp[k]['above_bare_ms'])} ({number(imp[k]['above_bare_median_ms'])})"
                for k in ("notes", "launcher")
            ),
        )
    out.append(imports)
    return out


def print_report(console: Console, report: dict) -> None:
    for part in tables(report):
        if isinstance(part, Table):
            console.print()
        console.print(part)


# --- Markdown ------------------------------------------------------------------------


def markdown(report: dict) -> str:
    m, v = report["machine"], report["verdict"]
    lines = [
        "# make bench",
        "",
        f"**{bv.headline(v)}**",
        "",
        bv.circumstances(v),
        "",
        f"{report['date']}, commit {report['commit']}, kernel {m['kernel']}, {m['cpus']} CPUs, load "
        f"{m['load_before']} before and {m['load_after']} after; {report['settings']['rounds']} interleaved "
        f"rounds after {report['settings']['warmup']} warm-up. Milliseconds: median (quartiles). CPU is "
        "user+sys of the launcher and everything it reaped; setup is the launcher minus its runtime's null "
        "start, round by round. A difference whose quartiles include zero is no measurable cost. A target is "
        "met when its quartiles are within the limit, not met when both are beyond, unclear otherwise.",
        "",
        "## Targets",
        "",
        "Ratios: CPU time, median (quartiles) of the round-by-round ratios, wall time's median beside; "
        "imports: the fastest runs and the medians.",
        "",
        "| target | this run (CPU) | wall | state |",
        "|---|---|---|---|",
        *(
            f"| {g['target']} | {goal_value(g)} | {'–' if g['wall'] is None else g['wall']} | {goal_state(g)} |"
            for g in v["targets"]
        ),
        "",
        "## Launch to exit",
        "",
        "| target | wall | CPU | setup wall | setup CPU | exit status |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in report["launch"].items():
        lines.append(
            f"| {name} | {spread(row['wall'])} | {spread(row['cpu'])} | {cost(row.get('setup_wall', {}))} | "
            f"{cost(row.get('setup_cpu', {}))} | {','.join(map(str, row['statuses']))}"
            f"{'' if row['status_ok'] else ' (unexpected)'} |"
        )
    first = next(iter(report["ratios"].values()), {})
    lines += [
        "",
        "## Ratios, round by round: median (quartiles)",
        "",
        "| python | " + " | ".join(map(_label, first)) + " |",
        "|---" * (1 + len(first)) + "|",
    ]
    for ver, rat in report["ratios"].items():
        lines.append(f"| {ver} | " + " | ".join(spread(x, 2) for x in rat.values()) + " |")
    lines += [
        "",
        "## Import time of the launch path (sum of `-X importtime` self times)",
        "",
        "Above bare: fastest run minus fastest run (importtime is wall time, which load only adds to); "
        "the difference of the medians in brackets.",
        "",
        "| python | bare | notes | above bare | launcher | above bare | heaviest modules the bare start lacks |",
        "|---|---|---|---|---|---|---|",
    ]
    for ver, imp in report["imports"].items():
        top = ", ".join(f"{n} {ms:.1f}" for n, ms in list(imp["launcher"]["top_modules"].items())[:6])
        lines.append(
            f"| {ver} | {spread(imp['bare'])} | {spread(imp['notes']['total'])} | {imp['notes']['above_bare_ms']}"
            f" ({imp['notes']['above_bare_median_ms']})"
            f" | {spread(imp['launcher']['total'])} | {imp['launcher']['above_bare_ms']}"
            f" ({imp['launcher']['above_bare_median_ms']}) | {top} |"
        )
    if report["flags"]:
        lines += [
            "",
            f"## One namespace flag alone ({report['settings']['flag_runs']} launches each of `launcher --clone FLAG "
            f"-- true`; py is Python {report['settings']['flags_python']})",
            "",
            "| flag | go setup CPU | py setup CPU | go setup wall | py setup wall |",
            "|---|---|---|---|---|",
        ]
        for f in FLAGS:
            go, py = report["flags"][f"go {f}"], report["flags"][f"py {f}"]
            lines.append(
                f"| {f} | {cost(go['setup_cpu'])} | {cost(py['setup_cpu'])} | {cost(go['setup_wall'])} | "
                f"{cost(py['setup_wall'])} |"
            )
    if report["probe"]:
        lines += [
            "",
            "## pexpect probe round trip (`true`)",
            "",
            "| launcher | first prompt | round trip |",
            "|---|---|---|",
        ]
        for name, p in report["probe"].items():
            lines.append(f"| {name} | {p['first_prompt_ms']} | {spread(p['round_trip'])} |")
    if report["make"]:
        lines += ["", "## make targets (wall, once)", "", "| target | seconds | status |", "|---|---|---|"]
        for name, t in report["make"].items():
            lines.append(f"| make {name} | {t['wall_s'] if t else 'absent'} | {t['status'] if t else '–'} |")
    return "\n".join(lines) + "\n"


# --- SVG -----------------------------------------------------------------------------

# Bars whose quartiles include zero: faded, dashed, labelled.
NO_COST_STYLE = "fill-opacity: 0.15; stroke-width: 1.5; stroke-dasharray: 4 3"
# pygal's own style sheets and ours, each read from its file and inlined.
CSS = ["file://style.css", "file://graph.css", f"file://{TEMPLATES / 'bench.css'}"]


def _chart(kind, **config):
    """A pygal chart that renders as a self-contained SVG: no script, from anywhere."""
    style = pygal.style.Style(background="white", plot_background="white", font_family="sans-serif")
    return kind(style=style, js=[], css=CSS, legend_at_bottom=True, print_labels=True, **config)


def _bar(s: dict) -> dict:
    """One bar: the median, whiskers at the quartiles; faded and labelled when they include zero."""
    bar = {"value": s["median"], "ci": {"low": s["p25"], "high": s["p75"]}}
    reading = bv.cost_class(s)
    if reading == "none":
        bar |= {"label": bv.NO_COST, "style": NO_COST_STYLE}
    elif reading == "less":
        bar["label"] = bv.COST_LABELS[reading]
    return bar


def _range(stats: list[dict]) -> tuple[float, float]:
    """The value axis: zero and every whisker in sight."""
    return min(0.0, *(s["p25"] for s in stats)), max(0.0, *(s["p75"] for s in stats))


def setup_chart(report: dict):
    names = [n for n, row in report["launch"].items() if "setup_cpu" in row][::-1]  # pygal draws bottom up
    rows = [report["launch"][n] for n in names]
    chart = _chart(
        pygal.HorizontalBar,
        width=1000,
        height=80 + 36 * len(names),
        title="Setup cost (launcher minus its null start), ms: median, whiskers at the quartiles",
        range=_range([r[k] for r in rows for k in ("setup_cpu", "setup_wall")]),
    )
    chart.x_labels = names
    chart.add("CPU", [_bar(r["setup_cpu"]) for r in rows])
    chart.add("wall", [_bar(r["setup_wall"]) for r in rows])
    return chart


def flags_chart(report: dict):
    flags = report["flags"]
    chart = _chart(
        pygal.HorizontalBar,
        width=1000,
        height=80 + 60 * len(FLAGS),
        title=f"CPU cost of one namespace flag alone over none, ms: median, whiskers at the quartiles "
        f"({report['settings']['flag_runs']} rounds); faded: {bv.NO_COST}",
        range=_range([flags[f"{rt} {f}"]["setup_cpu"] for rt in ("go", "py") for f in FLAGS]),
    )
    chart.x_labels = list(FLAGS)[::-1]
    for rt in ("go", "py"):
        title = "go launcher" if rt == "go" else f"py{report['settings']['flags_python']} launcher"
        chart.add(title, [_bar(flags[f"{rt} {f}"]["setup_cpu"]) for f in FLAGS[::-1]])
    return chart


def write_plots(report: dict, out: Path) -> list[str]:
    """reports/bench.svg and, with flag runs, bench-flags.svg; the names written."""
    setup_chart(report).render_to_file(str(out / "bench.svg"))
    written = ["bench.svg"]
    if report["flags"]:
        flags_chart(report).render_to_file(str(out / "bench-flags.svg"))
        written.append("bench-flags.svg")
    return written
