"""make bench's pure parts, from made-up measurements: no launch is timed here.

What the numbers say (tests/support/bench_verdict.py) and how they are shown
(tests/support/bench_report.py): the busy refusal, "no measurable cost", the
targets' three states, the verdict at the head of bench.json, self-contained
SVG and tables that fit 80 columns. Timing itself is make bench's own business.
"""

import io
import json
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console

from tests.support import bench, bench_report
from tests.support import bench_verdict as bv
from tests.support.paths import ROOT

ROUNDS = 9
META = {"date": "2026-12-01 10:00:00 UTC", "commit": "abc1234", "kernel": "6.12.0-test"}


def series(median: float, noise: float, rng: random.Random, n: int = ROUNDS) -> list[float]:
    return [median + rng.uniform(-noise, noise) for _ in range(n)]


def target(name: str, cpu: list[float], null: str | None = None, expect: int = 0, kind: str = "launcher"):
    t = bench.Target(name, ["true"], null=null, expect=expect, kind=kind)
    t.cpu, t.wall = cpu, [x * 1.1 for x in cpu]
    t.statuses = {expect}
    return t


def fake_report(*, busy_reason: str | None = None, forced: bool = False, flag_runs: int = ROUNDS) -> dict:
    """A report as bench.measure makes it, from series made up round by round."""
    rng = random.Random(21)
    launch = [
        target("go null", series(1.2, 0.05, rng), kind="null"),
        target("go notes", series(3.5, 0.1, rng), null="go null", expect=255),
        target("go launcher", series(3.5, 0.1, rng), null="go null"),
        target("true", series(0.6, 0.05, rng), kind="null"),
        target("unshare", series(2.2, 0.1, rng), null="true"),
        target("py3.11 null", series(9.4, 0.2, rng), kind="null"),
        target("py3.11 notes", series(16.9, 0.2, rng), null="py3.11 null", expect=255),
        target("py3.11 notes -c raw-clone", series(13.6, 0.2, rng), null="py3.11 null", expect=255),
        target("py3.11 launcher", series(17.4, 0.2, rng), null="py3.11 null"),
    ]
    flags = [target("go none", series(3.0, 0.3, rng)), target("py none", series(14.0, 0.3, rng))]
    for f in bench.FLAGS:
        go_cost = 0.1 if f in ("uts", "ipc") else 0.8  # a tenth of a ms under 0.3 of noise: not measurable
        flags.append(target(f"go {f}", series(3.0 + go_cost, 0.3, rng), null="go none"))
        flags.append(target(f"py {f}", series(14.0 + go_cost, 0.3, rng), null="py none"))
    rows = bench.summarize(launch)
    imports = {
        "3.11": {
            "bare": bv.stats([9.0, 9.1, 9.2, 9.3, 9.4]),
            # notes: 4.0 to 4.8 ms above bare, met; launcher 4.0 to 5.3, across the 5 ms: unclear
            **{
                k: {"total": bv.stats([13.0, 13.5, 14.0, 14.2, 15.0]), "above_bare_ms": 4.0,
                    "above_bare_median_ms": median, "top_modules": {"port.exec": 1.2}}
                for k, median in (("notes", 4.8), ("launcher", 5.3))
            },
        }
    }  # fmt: skip
    ratio = bv.ratios(rows, ["3.11"], {"3.11": ["raw-clone"]})
    load = {"before": 0.6, "highest": 1.5, "after": 1.5, "cores": 2, "limit": 2.0}
    return {
        "verdict": bv.verdict(bv.targets(ratio, imports), load=load, busy_reason=busy_reason, forced=forced, meta=META),
        **META,
        "machine": {"cpus": 2, "kernel": META["kernel"], "load_before": 0.6, "load_after": 1.5},
        "settings": {"rounds": ROUNDS, "warmup": 1, "flag_runs": flag_runs, "flags_python": "3.11"},
        "launch": rows,
        "flags": bench.summarize(flags) if flag_runs else {},
        "imports": imports,
        "probe": {},
        "make": {},
        "ratios": ratio,
    }


# --- busy: refuse to judge ---------------------------------------------------------------


def test_busy_above_the_limit_and_says_load_and_cores():
    assert bv.busy(6.0, 2, bv.load_limit(2)) == "machine busy: load 6.00 on 2 cores"
    assert bv.busy(1.9, 2, bv.load_limit(2)) is None
    assert bv.load_limit(2) == 2.0


def test_busy_during_the_run_discounts_the_bench_s_own_process():
    assert bv.busy(2.8, 2, 2.0, own=bv.OWN_LOAD) is None
    assert bv.busy(3.2, 2, 2.0, own=bv.OWN_LOAD) == "machine busy: load 3.20 on 2 cores"


def test_a_busy_run_is_not_judged_unless_forced():
    refused = fake_report(busy_reason="machine busy: load 6.00 on 2 cores")["verdict"]
    assert refused["state"] == "busy"
    assert {g["state"] for g in refused["targets"]} == {"not judged"}
    assert refused["counts"]["not judged"] == refused["counts"]["targets"]
    assert bv.headline(refused) == "verdict: none, machine busy: load 6.00 on 2 cores"
    assert bv.circumstances(refused).endswith("(limit 2.0): not judged; --force judges anyway")
    forced = fake_report(busy_reason="machine busy: load 6.00 on 2 cores", forced=True)["verdict"]
    assert forced["state"] != "busy" and forced["forced"]
    assert "not judged" not in {g["state"] for g in forced["targets"]}
    assert bv.headline(forced).startswith("verdict (forced): ")
    assert bv.circumstances(forced) == "forced although machine busy: load 6.00 on 2 cores (limit 2.0)"


def test_the_script_refuses_a_busy_machine_with_exit_3_before_measuring():
    # A limit below any load average: busy whatever the machine is doing.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--max-load", "-1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert re.search(r"machine busy: load \d+\.\d\d on \d+ cores", proc.stderr)
    assert proc.stdout == ""


def test_quick_lowers_the_counts_and_an_option_given_wins():
    assert bench.Settings.chosen() == bench.Settings()
    quick = bench.Settings.chosen(quick=True)
    assert (quick.rounds, quick.flag_runs, quick.import_runs) == (8, 30, 5)
    mixed = bench.Settings.chosen(quick=True, flag_runs=0, rounds=12)
    assert (mixed.rounds, mixed.flag_runs, mixed.import_runs) == (12, 0, 5)


def test_fewer_than_five_runs_give_no_spread_and_are_refused():
    assert bench.Settings().problems() == []
    assert bench.Settings(**bench.QUICK).problems() == []
    assert bench.Settings(rounds=3, import_runs=4).problems() == [
        "--rounds 3: at least 5",
        "--import-runs 4: at least 5",
    ]
    assert bench.Settings(flag_runs=0, probe_runs=0).problems() == []  # 0 skips them


# --- no measurable cost -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("median", "p25", "p75", "reading"),
    [
        (0.5, 0.1, 0.9, "cost"),
        (0.3, -0.2, 0.5, "none"),  # the figures: a median inside its own noise
        (-0.2, -0.6, 0.1, "none"),  # a negative median is no negative cost
        (0.0, 0.0, 0.4, "none"),
        (-0.5, -0.9, -0.1, "less"),
    ],
)
def test_a_difference_smaller_than_its_spread_is_no_measurable_cost(median, p25, p75, reading):
    s = {"median": median, "p25": p25, "p75": p75}
    assert bv.cost_class(s) == reading
    assert bench_report.cost(s).startswith(bv.NO_COST) == (reading == "none")


def test_the_flags_made_up_to_cost_a_tenth_of_their_noise_read_as_no_measurable_cost():
    flags = fake_report()["flags"]
    readings = {name: row["setup_cpu_reading"] for name, row in flags.items() if "null" in row}
    assert readings["go uts"] == readings["py ipc"] == bv.NO_COST
    assert readings["go pid"] == readings["py net"] == "cost"


@pytest.mark.parametrize(
    ("low", "high", "state"),
    [(1.5, 1.9, "met"), (1.8, 2.3, "unclear"), (2.1, 2.5, "not met"), (2.0, 2.0, "met"), (None, None, "unclear")],
)
def test_a_target_is_met_only_when_its_whole_interval_is(low, high, state):
    assert bv.judge(low, high, 2.0) == state


def test_ratios_are_taken_round_by_round():
    rows = fake_report()["launch"]
    r = bv.ratios(rows, ["3.11"], {"3.11": ["raw-clone"]})["3.11"]
    # py notes setup about 7.5 over Go's 2.3: about 3.3x, quartiles around it
    assert 3.0 < r["setup_cpu_vs_go"]["p25"] <= r["setup_cpu_vs_go"]["median"] <= r["setup_cpu_vs_go"]["p75"] < 3.6
    assert r["setup_cpu_vs_go"]["n"] == ROUNDS
    assert set(r) >= {"setup_cpu_vs_go_raw-clone", "launcher_cpu_vs_notes", "launcher_setup_wall_vs_go"}


def test_a_round_without_a_positive_denominator_is_left_out():
    assert bv.quotients([2.0, 4.0, 6.0], [1.0, 0.0, -1.0]) == [2.0]


# --- the report: verdict first ------------------------------------------------------------


def test_bench_json_starts_with_the_verdict():
    report = json.loads(json.dumps(fake_report()))
    assert next(iter(report)) == "verdict"
    v = report["verdict"]
    assert list(v)[:6] == ["state", "counts", "busy", "forced", "commit", "kernel"]
    assert (v["commit"], v["kernel"], v["date"]) == (META["commit"], META["kernel"], META["date"])
    assert v["state"] in ("met", "not met", "unclear")
    counts = v["counts"]
    assert set(counts) == {"targets", *bv.STATES}
    assert counts["targets"] == len(v["targets"]) == sum(counts[s] for s in bv.STATES) == 4
    assert counts["not met"] == 1  # py3.11's setup cost, about 3.3x Go's
    assert v["state"] == "not met"
    for g in v["targets"]:
        assert set(g) >= {"target", "limit", "value", "low", "high", "state"}
        assert g["low"] <= g["value"] <= g["high"]


def test_every_target_met_is_met_and_one_unclear_is_unclear():
    goals = [{"state": "met"}, {"state": "met"}]
    load = {"before": 0.5, "highest": 1.0, "after": 1.0, "cores": 2, "limit": 2.0}
    assert bv.verdict(goals, load=load, busy_reason=None, forced=False, meta=META)["state"] == "met"
    goals.append({"state": "unclear"})
    assert bv.verdict(goals, load=load, busy_reason=None, forced=False, meta=META)["state"] == "unclear"


# --- the terminal: verdict first, 80 columns ----------------------------------------------


def rendered(report: dict, width: int = 80) -> str:
    out = io.StringIO()
    bench_report.print_report(Console(file=out, width=width, color_system=None), report)
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 120])
def test_the_tables_fit_the_console_and_cut_nothing(width):
    text = rendered(fake_report(), width)
    assert max(map(len, text.splitlines())) <= width
    assert "…" not in text
    for whole in ("py3.11 notes -c raw-clone", f"{bv.NO_COST} 0.1 (", "py3.11: launcher imports ≤ 5.0 ms above bare"):
        assert whole in text


def test_the_widest_launch_row_fits_80_columns_unwrapped():
    # A loaded run's figures: two-digit quartiles in every column, the longest strategy's name.
    report = fake_report()
    wide = {"median": 24.9, "p25": 18.8, "p75": 26.5, "min": 18.0, "max": 30.0, "n": ROUNDS}
    setup = {**wide, "median": 11.2, "p25": 10.8, "p75": 14.1}
    report["launch"] = {
        "py3.13 notes -c subreaper": {**report["launch"]["py3.11 notes"], "cpu": wide, "wall": wide, "setup_cpu": setup}
    }
    rows = [line for line in rendered(report).splitlines() if "subreaper" in line]
    assert rows == ["py3.13 notes -c subreaper  24.9 (18.8–26.5)  11.2 (10.8–14.1)  24.9 (18.8–26.5)"]


def test_the_verdict_is_the_first_line():
    lines = rendered(fake_report()).splitlines()
    assert lines[0] == "verdict: not met: 2 of 4 targets met, 1 not met, 1 unclear"
    assert lines[1].startswith("load 0.60 → 1.50 on 2 cores (busy above 2.0)")


def test_markdown_leads_with_the_verdict():
    md = bench_report.markdown(fake_report())
    assert md.splitlines()[2].startswith("**verdict: not met")
    assert bv.NO_COST in md


# --- SVG: self-contained, intervals drawn ------------------------------------------------


def external_references(svg: str) -> list[str]:
    """Every reference that leaves the document: an href (a script's, a style sheet's), url() or @import."""
    ET.fromstring(svg.encode())  # well-formed
    hrefs = [h for h in re.findall(r"""\bhref\s*=\s*["']([^"']*)""", svg) if not h.startswith("#")]
    return hrefs + re.findall(r"url\(\s*['\"]?(?!#)[^)]*\)|@import[^;]*", svg)


@pytest.mark.parametrize("chart", [bench_report.setup_chart, bench_report.flags_chart])
def test_svg_is_self_contained(chart):
    svg = chart(fake_report()).render(is_unicode=True)
    assert external_references(svg) == []


def test_the_flag_plot_draws_intervals_and_labels_no_measurable_cost():
    svg = bench_report.flags_chart(fake_report()).render(is_unicode=True)
    assert svg.count('class="ci"') == 2 * len(bench.FLAGS)
    assert svg.count(f'class="label">{bv.NO_COST}</text>') == 4  # uts and ipc, under go and py
    assert bench_report.NO_COST_STYLE in svg


def test_an_svg_from_pygal_s_defaults_would_fail_the_check():
    import pygal

    chart = pygal.Bar()
    chart.add("x", [1, 2])
    assert external_references(chart.render(is_unicode=True))


def test_write_plots_skips_the_flag_plot_without_flag_runs(tmp_path):
    assert bench_report.write_plots(fake_report(flag_runs=0), tmp_path) == ["bench.svg"]
    assert external_references((tmp_path / "bench.svg").read_text()) == []
