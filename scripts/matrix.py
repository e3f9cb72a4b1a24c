"""Run every namespace configuration under Go and Python, as root and as nobody.

    matrix.py [--out reports] [--jobs N] [--flags 'uts,pid;user;'] [--privileges root,nobody] [--wide]

Prints the verdict first, then each cell where Go and Python differ and each
cell not verified, with the reason (the grid of every cell with --wide, or
on a terminal of 120 columns); progress on a terminal, one line per stage
when piped. Writes matrix.md, matrix.html and matrix.json (`verdict`, then a
list `cells`, each with its flags, privilege, both outcomes, `state` and
`match`). Exit status (tests/support/verdict.py): 0 every cell compared and
alike, 1 Go and Python differ in a cell, 2 a cell not verified (a launch could
not be made: an interpreter nobody cannot run, a timeout; each named with the
reason), not root, or a bad command line.
"""

import os
import sys
import time
from pathlib import Path

from plumbum import cli

from tests.support import matrix, matrix_report, report, verdict
from tests.support.paths import REPORTS
from tests.support.progress import Stages


class Matrix(cli.Application):
    """Launch sh under every flag set, privilege and language; compare Go and Python."""

    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")
    jobs = cli.SwitchAttr("--jobs", int, default=0, help="parallel launches (default: 2 per core)")
    flags = cli.SwitchAttr("--flags", str, default="", help="only these flag sets: ';'-separated comma lists")
    privileges = cli.SwitchAttr("--privileges", str, default="root,nobody", help="comma list of root, nobody")
    wide = cli.Flag("--wide", help="the grid of every cell, whatever the terminal's width")

    def main(self):
        privileges = [p for p in self.privileges.split(",") if p]
        if unknown := [p for p in privileges if p not in matrix.PRIVILEGES]:
            return verdict.refuse("matrix", f"unknown privilege {unknown[0]!r}; known: root, nobody")
        if os.geteuid() != 0:
            return verdict.refuse("matrix", "needs root (it runs each cell as root and drops to nobody itself)")
        skip = {}
        if "nobody" in privileges and (problem := matrix.nobody_problem()):
            skip["nobody"] = f"{problem}; use an interpreter nobody can run, or --privileges root"
            print(f"matrix: the nobody cells are not verified: {skip['nobody']}", file=sys.stderr)
        flag_sets = matrix.configurations()
        if self.flags:
            flag_sets = [tuple(f for f in part.split(",") if f) for part in self.flags.split(";")]
        launches = 2 * len(flag_sets) * len(privileges)
        start, load = time.monotonic(), os.getloadavg()[0]
        with Stages("matrix", launches, "launches") as stages:
            n = len(flag_sets) * len(privileges)
            stages.stage(f"{n} cell{'s' if n != 1 else ''} as {' and '.join(privileges)}, "
                         f"{self.jobs or 2 * (os.cpu_count() or 2)} launches at a time")  # fmt: skip
            cells = matrix.run(flag_sets, privileges, self.jobs or None, skip=skip, done=stages.advance)
            stages.stage("writing the reports")
            meta = {**report.run_metadata(), "launches": str(launches), **report.timing(start, load)}
            if self.flags or set(privileges) != set(matrix.PRIVILEGES):
                meta["only"] = f"--flags '{self.flags}' --privileges {','.join(privileges)}"
            out = Path(self.out)
            out.mkdir(parents=True, exist_ok=True)
            (out / "matrix.md").write_text(matrix_report.markdown(cells, meta))
            (out / "matrix.html").write_text(matrix_report.html_page(cells, meta))
            (out / "matrix.json").write_text(matrix_report.json_report(cells, meta))
        print(matrix_report.text_summary(cells, meta, wide=self.wide or None), end="")
        print(f"reports: {out}/matrix.md, matrix.html, matrix.json")
        return matrix_report.view(cells, meta)["verdict"]["exit"]


if __name__ == "__main__":
    Matrix.run()
