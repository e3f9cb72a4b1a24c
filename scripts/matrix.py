"""Run every namespace configuration under Go and Python, as root and as nobody.

    matrix.py [--out reports] [--jobs N] [--flags 'uts,pid;user;'] [--privileges root,nobody]

Writes matrix.md, matrix.html and matrix.json (a list `cells`, each with its
flags, privilege, both outcomes and `match`). Exits 1 when Go and Python
differ in any cell.
"""

import os
import sys
import time
from pathlib import Path

from plumbum import cli

from tests.support import matrix, matrix_report, report
from tests.support.paths import REPORTS


class Matrix(cli.Application):
    """Launch sh under every flag set, privilege and language; compare Go and Python."""

    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")
    jobs = cli.SwitchAttr("--jobs", int, default=0, help="parallel launches (default: 2 per core)")
    flags = cli.SwitchAttr("--flags", str, default="", help="only these flag sets: ';'-separated comma lists")
    privileges = cli.SwitchAttr("--privileges", str, default="root,nobody", help="comma list of root, nobody")

    def main(self):
        privileges = [p for p in self.privileges.split(",") if p]
        if unknown := [p for p in privileges if p not in matrix.PRIVILEGES]:
            print(f"matrix: unknown privilege {unknown[0]!r}; known: root, nobody", file=sys.stderr)
            return 2
        if os.geteuid() != 0:
            print("matrix: needs root (it runs each cell as root and drops to nobody itself)", file=sys.stderr)
            return 2
        if "nobody" in privileges and (problem := matrix.nobody_problem()):
            print(f"matrix: {problem}; use an interpreter nobody can run, or --privileges root", file=sys.stderr)
            return 2
        flag_sets = matrix.configurations()
        if self.flags:
            flag_sets = [tuple(f for f in part.split(",") if f) for part in self.flags.split(";")]
        start = time.monotonic()
        cells = matrix.run(flag_sets, privileges, self.jobs or None)
        seconds = time.monotonic() - start
        meta = {**report.run_metadata(), "launches": str(2 * len(cells)), "seconds": f"{seconds:.1f}"}
        out = Path(self.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "matrix.md").write_text(matrix_report.markdown(cells, meta))
        (out / "matrix.html").write_text(matrix_report.html_page(cells, meta))
        (out / "matrix.json").write_text(matrix_report.json_report(cells, meta))
        print(matrix_report.text_summary(cells, meta), end="")
        print(f"reports: {out}/matrix.md, matrix.html, matrix.json")
        return 0 if all(c["match"] for c in cells) else 1


if __name__ == "__main__":
    Matrix.run()
