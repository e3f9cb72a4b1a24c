"""make bench: how long Go, the port and unshare take to start sh in six namespaces and end.

    scripts/bench.py            # the default run: about two minutes on an idle 2-core machine
    scripts/bench.py --quick    # fewer runs, for a first look
    scripts/bench.py --slow     # also the wall time of make test, make parity (and make matrix)
    scripts/bench.py --force    # measure and judge even on a busy machine

What is measured and how: tests/support/bench.py; what the numbers say (the
targets, "no measurable cost", when the machine is too busy to judge):
tests/support/bench_verdict.py; the tables, Markdown and plots:
tests/support/bench_report.py.

The verdict comes first on stdout, then the tables (as wide as COLUMNS, else
the terminal, else 80); progress goes to stderr (bars on a terminal, one line
per stage otherwise). Writes reports/bench.json (its first key the verdict),
reports/bench.md, reports/bench.svg (setup costs) and reports/bench-flags.svg
(the cost of each namespace flag alone).

Exit status: 0 when the run was judged (whether or not every target is met),
2 on a bad command line or a missing build, 3 when the machine is busy (a
1-minute load average above --max-load, before or during the run; --force
judges anyway).
"""

import argparse
import json
import sys

from rich.console import Console

from tests.support import bench, bench_report
from tests.support.paths import REPORTS

BUSY = 3


# The counted options: help text; the default is bench.Settings()'s, under --quick bench.QUICK's.
COUNTS = {
    "rounds": "interleaved rounds kept",
    "warmup": "rounds run first and thrown away",
    "flag_runs": "rounds of the namespace flags (0: skip)",
    "import_runs": "-X importtime runs per path",
    "probe_runs": "pexpect round trips per launcher (0: skip)",
}


def settings(argv: list[str] | None = None) -> bench.Settings:
    d = bench.Settings()
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="exit status: 0 once judged (met or not), 2 bad usage or missing build, 3 machine busy",
        formatter_class=argparse.RawTextHelpFormatter,
    )
    for name, text in COUNTS.items():
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"{text} (default {getattr(d, name)})")
    quick = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in bench.QUICK.items())
    ap.add_argument("--quick", action="store_true", help=f"fewer runs: {quick} (options given win)")
    ap.add_argument("--slow", action="store_true", help="also time make test, make parity and make matrix")
    ap.add_argument("--python", default=",".join(d.versions), help="Python versions (default %(default)s)")
    ap.add_argument("--max-load", type=float, help="busy above this 1-minute load average (default: 1 per core)")
    ap.add_argument("--force", action="store_true", help="measure and judge even when the machine is busy")
    ap.add_argument("--keep-signals", action="store_true",
                    help="leave signals 32 and 33 as inherited (make ignores them; a shell does not)")  # fmt: skip
    ap.add_argument("--seed", type=int, help="seed of the run order (default: random, recorded)")
    args = ap.parse_args(argv)
    s = bench.Settings.chosen(
        quick=args.quick,
        **{name: getattr(args, name) for name in COUNTS if getattr(args, name) is not None},
        versions=tuple(v.strip() for v in args.python.split(",") if v.strip()),
        slow=args.slow,
        keep_signals=args.keep_signals,
        seed=args.seed,
        max_load=args.max_load,
        force=args.force,
    )
    if problems := s.problems():
        ap.error("; ".join(problems))
    return s


def main() -> int:
    s = settings()
    err = Console(stderr=True)
    if missing := bench.missing_programs():
        err.print(f"bench: {', '.join(missing)} missing: run make build", style="red", markup=False, soft_wrap=True)
        return 2
    if not s.force and (reason := bench.busy_now(s)):
        err.print(
            f"bench: {reason}: not measured; wait, or --force to judge anyway",
            style="red",
            markup=False,
            soft_wrap=True,
        )
        return BUSY
    REPORTS.mkdir(exist_ok=True)
    with bench_report.Progress(err, bench.stages(s)) as progress:
        report = bench.measure(s, progress, progress.warn)
    if report is None:
        err.print("bench: no Python interpreter found", style="red", markup=False, soft_wrap=True)
        return 2
    out = Console()
    bench_report.print_report(out, report)
    (REPORTS / "bench.json").write_text(json.dumps(report, indent=1) + "\n")
    (REPORTS / "bench.md").write_text(bench_report.markdown(report))
    written = ["bench.json", "bench.md", *bench_report.write_plots(report, REPORTS)]
    out.print(
        f"wrote {REPORTS.name}/{', '.join(written)} in {report['machine']['bench_seconds']} s",
        markup=False,
        highlight=False,
    )
    return BUSY if report["verdict"]["state"] == "busy" else 0


if __name__ == "__main__":
    sys.exit(main())
