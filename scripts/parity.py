"""Run every probe under each launcher; print the verdict and what differs, and write the reports.

    parity.py [--launchers go,py,unshare,bwrap] [--probes hostname,net] [--out reports] [--wide]

Go is the reference: it runs first whether named first, later or not at all.
Prints the verdict first, then each probe that is not ✓ as a block that fits
80 columns (the full grid with --wide, or on a terminal of 120 columns), and
writes parity.md, parity.html and parity.json (which starts with `verdict`).
Exit status (tests/support/verdict.py):
  0  every probe was compared, and every launcher's facts equal the reference's
     or differ only where its entry in tests/support/launchers.py expects it
     (shown with the reason)
  1  an unexpected difference
  2  a probe or fact could not be compared (not verified: it did not run for the
     reference or for a launcher, each named with the reason), nothing could run,
     a launcher is not installed, or a bad command line
"""

from pathlib import Path

from plumbum import cli

from tests.support import launchers, parity, report, verdict
from tests.support.paths import REPORTS


class Parity(cli.Application):
    """Compare how launchers isolate a shell, probe by probe."""

    names = cli.SwitchAttr(
        "--launchers", str, default="go,py", envname="LAUNCHERS",
        help="comma or space list; go, the reference, always runs first (named or not); "
        f"known: {', '.join(launchers.LAUNCHERS)}",
    )  # fmt: skip
    probe_names = cli.SwitchAttr(
        "--probes", str, default="", envname="PROBES",
        help="comma or space list of probes to run (every probe by default); the verdict counts only these",
    )  # fmt: skip
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")
    wide = cli.Flag("--wide", help="the full grid of every fact, whatever the terminal's width")

    def main(self):
        try:
            chosen = launchers.select(self.names)
            probes = parity.select_probes(self.probe_names)
        except KeyError as e:
            return verdict.refuse("parity", e.args[0])
        if len(chosen) < 2:
            return verdict.refuse("parity", "name a launcher to compare with go")
        for launcher in chosen:
            if problem := launcher.missing():
                return verdict.refuse("parity", f"{launcher.name}: {problem}; apt-get install {launcher.package}")
        results = parity.run_all(chosen, probes)
        rows = parity.compare(results, probes)
        meta = report.run_metadata()
        print(report.terminal(rows, results, meta, wide=self.wide or None), end="")
        out = Path(self.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "parity.md").write_text(report.markdown(rows, results, meta))
        (out / "parity.html").write_text(report.html_page(rows, results, meta))
        (out / "parity.json").write_text(report.json_report(rows, results, meta))
        print(f"reports: {out}/parity.md, parity.html, parity.json")
        return report.view(rows, results, meta)["verdict"]["exit"]


if __name__ == "__main__":
    Parity.run()
