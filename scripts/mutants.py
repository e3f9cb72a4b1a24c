"""Mutation testing of port/ with cosmic-ray, driven by the test suite (make mutants).

    mutants.py [--files port/exec_linux.py,port/runtime.py] [--jobs 2] [--limit N] [--out reports]

The work is done in tests/support/mutants.py. Writes reports/mutants.{md,json};
exits 1 if a file scores below --min-score (or has mutants left unrun), 2 on a
bad command line.
"""

import argparse
import os
import signal
import sys

from tests.support.paths import REPORTS, ROOT


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    ap = argparse.ArgumentParser(description="Mutation testing of port/ with cosmic-ray, driven by the suite.")
    ap.add_argument("--files", default="",
                    help="comma list of files under port/ (default: all but the generated tables)")  # fmt: skip
    ap.add_argument("--jobs", type=int, default=(os.cpu_count() or 1) + 1,
                    help="parallel workers, each with its own copy of the tree (default: cores + 1, as tests "
                    "spend much of their time waiting on ptys and children)")  # fmt: skip
    ap.add_argument("--limit", type=int, default=0, help="run only the first N mutants of each file (a smoke run)")
    ap.add_argument("--fast-only", action="store_true", help="do not run the whole suite for survivors")
    ap.add_argument("--no-map", action="store_true",
                    help="no coverage map: each mutant runs the fast subset, then the rest if it survives")  # fmt: skip
    ap.add_argument("--min-score", type=float, default=97.0, help="exit 1 if a file scores below this")
    ap.add_argument("--out", default=str(REPORTS), help="where mutants.{md,json} go")
    ap.add_argument("--list", dest="list_only", action="store_true", help="only list the mutants")
    ap.add_argument("--check", dest="check_only", action="store_true",
                    help="only check that each equivalent in tests/support/mutants_equivalents.toml covers a "
                    "mutant of the current source (every run checks that first)")  # fmt: skip
    ap.add_argument("--resume", action="store_true",
                    help="run only the mutants the last report has no result for (files unchanged since)")  # fmt: skip
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: write the last report again with the equivalents file as it is now")  # fmt: skip
    ap.add_argument("--equivalents", action="store_true",
                    help="run only the declared equivalents (each must survive the tests that reach it); "
                    "the other results are the last report's")  # fmt: skip
    ap.add_argument("--survivors", action="store_true",
                    help="run only the last report's survivors and timeouts again (files unchanged since)")  # fmt: skip
    args = ap.parse_args()
    try:
        from tests.support import mutants
    except ImportError as e:  # cosmic-ray, coverage and parso come with the mutants extra
        print(f"mutants: {e.name} is missing: make mutants installs the mutants extra (pip install -e '.[mutants]')",
              file=sys.stderr)  # fmt: skip
        return 2
    files = [f.strip() for f in (args.files or ",".join(mutants.DEFAULT_FILES)).split(",") if f.strip()]
    for f in files:
        if not (ROOT / f).is_file() or not f.startswith("port/") or not f.endswith(".py"):
            print(f"mutants: {f}: not a Python file under port/", file=sys.stderr)
            return 2
    if args.jobs < 1:
        print("mutants: --jobs must be at least 1", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    return mutants.run(mutants.Options(**{**vars(args), "files": files}))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        from tests.support import mutants

        mutants.stop()
        sys.exit("mutants: interrupted")
