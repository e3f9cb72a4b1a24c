"""Say what this machine lacks for the suite, and how to get it: `make doctor`.

    doctor.py            every check, one line each
    doctor.py --quiet    only the errors (what make test and make parity run first)
    doctor.py --help     this text

Checks the commands the probes, tests and make targets run (each with its
Debian package: TOOLS in tests/support/machine.py), the kernel's namespaces and
limits, cgroup2, root, the virtual environment ($VENV, default .venv: one this
user cannot use is an error), whether build/ and reports/ can be written, and
HOME. Exits 0 when all the suite needs is here, 1 when something is missing, 2
on a bad command line. Standard library only: it runs before the virtual
environment exists, as any user, and never ends in a traceback.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # it runs before the venv's editable install exists

from tests.support import machine

USAGE = "usage: doctor.py [--quiet] [--help]"


def main(argv: list[str]) -> int:
    if {"--help", "-h"} & set(argv):
        print(__doc__.strip())
        return 0
    quiet = "--quiet" in argv
    if set(argv) - {"--quiet"}:
        print(USAGE, file=sys.stderr)
        return 2
    findings = machine.check(venv_dir=os.environ.get("VENV") or ".venv")
    for f in findings:
        if f.error or not quiet:
            print(f"doctor: {f.line()}", file=sys.stderr if f.error else sys.stdout)
    if not quiet:
        print(f"doctor: / propagates as {machine.root_propagation()} (the mount probes handle each kind)")
        if not any(f.error for f in findings):
            notes = " (the notes above say what is skipped)" if findings else ""
            print(f"doctor: all the suite needs is here{notes}")
    return 1 if any(f.error for f in findings) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # noqa: BLE001 - a check that could not run is one line, never a traceback
        print(f"doctor: error: a check could not run ({type(e).__name__}: {e}): please report it", file=sys.stderr)
        sys.exit(1)
