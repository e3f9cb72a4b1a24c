"""make tables: write port/gotables.py and port/gotables_arch.py from the Go toolchain's own sources.

    gen_go_tables.py [--check] [--go GO]

What is read from where, and how: tests/support/gotables_gen.py.
"""

import sys
from pathlib import Path

from plumbum import cli, local

from tests.support.gotables_gen import generate
from tests.support.paths import ROOT


class GenGoTables(cli.Application):
    """Write port/gotables.py and port/gotables_arch.py from the Go toolchain's sources."""

    check = cli.Flag("--check", help="fail if a generated file is out of date")
    go = cli.SwitchAttr("--go", str, default="go", help="the go command to ask for GOROOT")

    def main(self):
        go = local[self.go]
        goroot = Path(go("env", "GOROOT").strip())
        version = go("env", "GOVERSION").strip()
        files = generate(goroot / "src", version)
        if self.check:
            stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
            for path in stale:
                print(f"{path.relative_to(ROOT)} is out of date: run make tables", file=sys.stderr)
            return 1 if stale else 0
        for path, text in files.items():
            path.write_text(text)
        return 0


if __name__ == "__main__":
    GenGoTables.run()
