"""make trace: each launcher's start under strace -f, its syscalls lined up with Go's.

    scripts/trace.py [--launchers go,py,py-subreaper,py-relay] [--out reports] [--runs 5]

Prints the verdict first, then per launcher its namespace calls in words
(the same as the reference's, or differing as its strategy expects, with the
reason) and the times last. Writes reports/trace.{md,html,json} (the JSON
starts with `verdict`). Exit status (tests/support/verdict.py): 0 every
difference explained, 1 an unexplained difference (or namespace calls that
should be Go's and are not), 2 a launcher that could not be traced, strace or
a named launcher missing, or a bad command line. The work is in
tests/support/trace.py.
"""

import os
import shutil
import time

from plumbum import cli

from tests.support import launchers, report, trace, verdict
from tests.support.paths import REPORTS


class Trace(cli.Application):
    """Trace each launcher's start and compare the syscalls with Go's."""

    names = cli.SwitchAttr("--launchers", str, default="go,py,py-subreaper,py-relay",
                           help="comma or space list; go, the reference, always runs first (named or not); "
                           f"known: {', '.join(launchers.LAUNCHERS)}")  # fmt: skip
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")
    runs = cli.SwitchAttr("--runs", cli.Range(1, 50), default=5,
                          help=f"traced starts per launcher, for the times ({trace.TIMED_FROM} or more: "
                          "a median)")  # fmt: skip

    def main(self):
        if shutil.which("strace") is None:
            return verdict.refuse("trace", "strace not installed (apt-get install strace)")
        try:
            chosen = launchers.select(self.names)
        except KeyError as e:
            return verdict.refuse("trace", e.args[0])
        if len(chosen) < 2:
            return verdict.refuse("trace", "name at least two launchers")
        start, load = time.monotonic(), os.getloadavg()[0]
        result = trace.trace(chosen, runs=self.runs)
        meta = {**report.run_metadata(), "traced starts per launcher": str(self.runs), **report.timing(start, load)}
        data = trace.report(result, meta)
        report.publish("trace", trace, result, meta, data, self.out)
        return data["verdict"]["exit"]


if __name__ == "__main__":
    Trace.run()
