"""Run every probe under each launcher; print a table and write the reports.

    parity.py [--launchers go,py,unshare,bwrap] [--out reports]

Go is the reference: it runs first whether named first, later or not at all.
Exits 0 when every launcher's facts equal the reference's or
differ only where the launcher's entry in tests/support/launchers.py expects it
(shown with the reason); 1 on any other difference; 2 on a bad command line
or a launcher that is not installed.
"""

import sys
from pathlib import Path

from plumbum import cli

from tests.support import launchers, parity, report
from tests.support.paths import REPORTS


class Parity(cli.Application):
    """Compare how launchers isolate a shell, probe by probe."""

    names = cli.SwitchAttr(
        "--launchers", str, default="go,py", envname="LAUNCHERS",
        help="comma or space list; go, the reference, always runs first (named or not); "
        f"known: {', '.join(launchers.LAUNCHERS)}",
    )  # fmt: skip
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")

    def main(self):
        try:
            chosen = launchers.select(self.names)
        except KeyError as e:
            print(f"parity: {e.args[0]}", file=sys.stderr)
            return 2
        if len(chosen) < 2:
            print("parity: name a launcher to compare with go", file=sys.stderr)
            return 2
        for launcher in chosen:
            if problem := launcher.missing():
                print(f"parity: {launcher.name}: {problem}; apt-get install {launcher.package}", file=sys.stderr)
                return 2
        results = parity.run_all(chosen)
        rows = parity.compare(results)
        meta = report.run_metadata()
        print(report.text_table(rows, results), end="")
        out = Path(self.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "parity.md").write_text(report.markdown(rows, results, meta))
        (out / "parity.html").write_text(report.html_page(rows, results, meta))
        (out / "parity.json").write_text(report.json_report(rows, results, meta))
        print(f"\nreports: {out}/parity.md, parity.html, parity.json")
        return 0 if all(r["match"] for r in rows) else 1


if __name__ == "__main__":
    Parity.run()
