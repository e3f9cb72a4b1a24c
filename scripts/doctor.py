"""Say what this machine lacks for the suite, and how to get it: `make doctor`.

    python3 -m scripts.doctor            every check, one line each
    python3 -m scripts.doctor --quiet    only the errors (what make test and make parity run first)
    python3 -m scripts.doctor --help     this text

Checks the commands the probes, tests and make targets run (each with its
Debian package: TOOLS in tests/support/machine.py), the kernel's namespaces and
limits, cgroup2, root, the virtual environment ($VENV, default .venv: one this
user cannot use is an error), whether build/ and reports/ can be written, and
HOME. Exits 0 when all the suite needs is here, 1 when something is missing, 2
on a bad command line. Standard library only: it runs before the virtual
environment exists, as any user, and never ends in a traceback. It runs as a
module from the tree's root (the Makefile's DOCTOR), which puts the root on
sys.path before the venv's editable install exists.
"""

import os
import sys

try:
    from tests.support import machine
except ModuleNotFoundError:  # run as a file, or from elsewhere: the root is not on sys.path
    sys.exit("doctor: run it from the tree's root as `python3 -m scripts.doctor`, or run `make doctor`")

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
