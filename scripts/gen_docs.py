"""make docs: README.md's package list and SysProcAttr table, and the translation side by side, from the code.

    scripts/gen_docs.py [--check] [--go GO] [--out reports]

Writes README.md's list of packages for a fresh machine (make doctor's table,
tests/support/machine.py) and its SysProcAttr table between their markers (and
the goversions table, from OUT/goversions.json when a full make goversions left it), and
OUT/translation.{html,md}:
Go's notes beside the port's, and Go's forkAndExecInChild1 beside the port's
child, step by step, with each step's syscalls and tests. --check writes
nothing and fails when a README block or that pairing is out of date. The work is
in tests/support/translation.py.
"""

import json
import sys
from pathlib import Path

from plumbum import cli, local

from tests.support import goversions_report, machine, translation
from tests.support.paths import REPORTS
from tests.support.translation import BEGIN, END, README


class GenDocs(cli.Application):
    """Regenerate README.md's package list and SysProcAttr table, and the translation."""

    check = cli.Flag("--check", help="fail if README.md's generated blocks are out of date")
    go = cli.SwitchAttr("--go", str, default="go", help="the go command to ask for GOROOT")
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where translation.{html,md} go")

    def main(self):
        goroot = Path(local[self.go]("env", "GOROOT").strip())
        text = README.read_text()
        head, rest = machine.with_packages(text).split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = f"{head}{BEGIN}\n{translation.sysprocattr_table(goroot)}\n{END}{tail}"
        problems = translation.problems(goroot)
        for problem in problems:
            print(f"gen_docs: the translation's pairing is out of date: {problem}", file=sys.stderr)
        if self.check:
            if new != text:
                print("README.md's package list or SysProcAttr table is out of date: run make docs", file=sys.stderr)
                return 1
            return 1 if problems else 0
        report = Path(self.out) / "goversions.json"  # make goversions' table, when a full run left its report
        if report.exists() and (rows := goversions_report.readme_rows(json.loads(report.read_text()))):
            new = goversions_report.with_readme_table(new, rows)
        README.write_text(new)
        translation.write(goroot, Path(self.out))
        print(f"gen_docs: README.md's package list and table; {self.out}/translation.html, translation.md")
        return 1 if problems else 0


if __name__ == "__main__":
    GenDocs.run()
