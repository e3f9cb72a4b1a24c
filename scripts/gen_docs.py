"""make docs: README.md's package list, SysProcAttr table and figures, and the translation side by side.

    scripts/gen_docs.py [--check] [--snapshot] [--go GO] [--out reports]

Writes README.md's list of packages for a fresh machine (make doctor's table,
tests/support/machine.py) and its SysProcAttr table between their markers, and
OUT/translation.{html,md}:
Go's notes beside the port's, and Go's forkAndExecInChild1 beside the port's
child, step by step, with each step's syscalls and tests. The README's figures
come from the snapshots in docs/figures/ (tests/support/figures.py); --snapshot
(make figures) first takes the reports in reports/ into them. --check writes
nothing and fails when a README block or that pairing is out of date. The work is
in tests/support/translation.py and figures.py.
"""

import sys
from pathlib import Path

from plumbum import cli, local
from plumbum.commands.processes import CommandNotFound, ProcessExecutionError

from tests.support import figures, machine, translation
from tests.support.paths import GO, REPORTS
from tests.support.translation import BEGIN, END, README


class GenDocs(cli.Application):
    """Regenerate README.md's package list and SysProcAttr table, and the translation."""

    check = cli.Flag("--check", help="fail if README.md's generated blocks are out of date")
    go = cli.SwitchAttr("--go", str, default=str(GO), help="the go command to ask for GOROOT")
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where translation.{html,md} go")
    take = cli.Flag("--snapshot", help="first take the reports in reports/ into docs/figures/ (make figures)")

    def main(self):
        try:
            goroot = Path(local[self.go]("env", "GOROOT").strip())
        except (CommandNotFound, ProcessExecutionError) as e:
            print(f"gen_docs: cannot ask {self.go} for GOROOT: {type(e).__name__}: {e.args[0]}", file=sys.stderr)
            return 2
        text = README.read_text()
        head, rest = machine.with_packages(text).split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        if self.take:
            for line in figures.snapshot():
                print(f"gen_docs: {line}")
        new, missing = figures.fill(f"{head}{BEGIN}\n{translation.sysprocattr_table(goroot)}\n{END}{tail}")
        for problem in missing:
            print(f"gen_docs: {problem}", file=sys.stderr)
        problems = translation.problems(goroot)
        for problem in problems:
            print(f"gen_docs: the translation's pairing is out of date: {problem}", file=sys.stderr)
        problems += missing
        if self.check:
            if new != text:
                print("README.md's package list, SysProcAttr table or figures are out of date: run make docs",
                      file=sys.stderr)  # fmt: skip
                return 1
            return 1 if problems else 0
        README.write_text(new)
        translation.write(goroot, Path(self.out))
        print(f"gen_docs: README.md's package list, table and figures; {self.out}/translation.html, translation.md")
        return 1 if problems else 0


if __name__ == "__main__":
    GenDocs.run()
