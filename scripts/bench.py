"""make bench: how long Go, the port and unshare take to start sh in six namespaces and end.

    scripts/bench.py            # the default run: about two minutes on an idle 2-core machine
    scripts/bench.py --quick    # fewer runs, for a first look
    scripts/bench.py --slow     # also the wall time of make test, make parity (and make matrix)

What is measured, how, and what is written: tests/support/bench.py.
"""

import argparse
import sys

from tests.support import bench


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=30, help="interleaved rounds kept (default 30)")
    ap.add_argument("--warmup", type=int, default=3, help="rounds run first and thrown away (default 3)")
    ap.add_argument("--flag-runs", type=int, default=200, help="launches per namespace flag (default 200; 0: skip)")
    ap.add_argument("--import-runs", type=int, default=20, help="-X importtime runs per path (default 20)")
    ap.add_argument("--probe-runs", type=int, default=30, help="pexpect round trips per launcher (default 30; 0: skip)")
    ap.add_argument("--python", default=",".join(bench.VERSIONS), help="Python versions (default %(default)s)")
    ap.add_argument("--quick", action="store_true", help="8 rounds, 30 launches per flag, 3 import runs")
    ap.add_argument("--slow", action="store_true", help="also time make test, make parity and make matrix")
    ap.add_argument(
        "--keep-signals",
        action="store_true",
        help="leave signals 32 and 33 as inherited (make ignores them; a shell does not)",
    )
    ap.add_argument("--seed", type=int, default=None, help="seed of the run order (default: random, recorded)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.flag_runs, args.import_runs, args.probe_runs = 8, 30, 3, 10
    return bench.run(args)


if __name__ == "__main__":
    sys.exit(main())
