"""make fuzz: N generated scenarios (os/exec calls and launcher command lines), Go against the port.

    scripts/fuzz.py --n 2000            # FUZZ_N in make fuzz
    scripts/fuzz.py --n 200 --seed 7    # a given seed (default: drawn, and printed)

Each scenario (tests/support/scenario_gen.py) runs under build/scenario-go and
tests/programs/scenario.py; the logic and views are tests/support/fuzz.py.
Prints the verdict and each kind of divergence with its smallest scenario;
writes reports/fuzz.json (the verdict first) and reports/fuzz.md.
Exit status: 0 every scenario agrees, 1 one differs, 2 one could not be run
(a timeout) or a bad command line.
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

from tests.support import fuzz, verdict
from tests.support.paths import REPORTS
from tests.support.report import run_metadata


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="scenarios to draw (default 2000)")
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: drawn, printed)")
    ap.add_argument("--jobs", type=int, default=max(2, 2 * (os.cpu_count() or 1)), help="scenarios run at once")
    ap.add_argument("--reports", type=Path, default=REPORTS, help="where fuzz.{json,md} go")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 32)
    start, load = time.monotonic(), os.getloadavg()[0]
    found = fuzz.generate(a.n, seed)
    print(f"seed {seed}: {len(found)} distinct scenarios of {a.n} drawn", file=sys.stderr)
    results = fuzz.run_all(found, a.jobs)
    after = round(os.getloadavg()[0], 2)
    meta = {**run_metadata(), "seconds": round(time.monotonic() - start),
            "load": {"before": round(load, 2), "after": after, "cores": os.cpu_count()}}  # fmt: skip
    report = fuzz.analyse(results, meta, seed, a.n)
    fuzz.shrink_all(report)
    fuzz.write(report, a.reports)
    print(verdict.headline(report["verdict"]))
    for d in report["divergences"]:
        print(f"  {d['count']} × {d['difference']}\n    {d['scenario']}")
    print(f"{time.monotonic() - start:.0f} s; reports: {a.reports}/fuzz.json, fuzz.md", file=sys.stderr)
    return report["verdict"]["exit"]


if __name__ == "__main__":
    sys.exit(main())
