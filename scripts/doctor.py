"""Say what this machine lacks for the suite, and how to get it: `make doctor`.

    doctor.py            every check, one line each
    doctor.py --quiet    only the errors (what make test and make parity run first)

Exits 1 when something the suite needs is missing. Standard library only: it
runs before the virtual environment exists.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # it runs before the venv's editable install exists

from tests.support import machine


def main(argv: list[str]) -> int:
    quiet = "--quiet" in argv
    if set(argv) - {"--quiet"}:
        print("usage: doctor.py [--quiet]", file=sys.stderr)
        return 2
    venv = not Path(os.environ.get("VENV", ".venv"), "bin", "python").exists()
    findings = machine.check(venv=venv)
    for f in findings:
        if f.error or not quiet:
            print(f"doctor: {f.line()}", file=sys.stderr if f.error else sys.stdout)
    if not quiet:
        print(f"doctor: / propagates as {machine.root_propagation()} (the mount probes handle each kind)")
        if not findings:
            print("doctor: all the suite needs is here")
    return 1 if any(f.error for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
