"""make faults: fail each syscall of the start path, one at a time, under Go and the port.

    scripts/faults.py [--launchers go,py,py-subreaper,py-relay] [--families notes,maps] [--out reports]
                      [--only clone:6:EAGAIN,...]

notes: the notes program (make trace's launchers); maps: the SysProcAttr launcher
with ID maps, a Credential, Setsid and Pdeathsig, under the same strategies.

Prints the verdict first, then per launcher what differs from Go. Writes
reports/faults.{md,html,json} (the JSON starts with `verdict`). Exit status
(tests/support/verdict.py): 0 every outcome the reference's or declared with its
reason, 1 a divergence (or something left behind, or a declared difference that no
longer occurs), 2 strace or a named launcher missing, or a bad command line. The
work is in tests/support/faults.py.
"""

import os
import shutil
import sys
import time

from plumbum import cli

from tests.support import faults, launchers, progress, report, verdict
from tests.support.paths import REPORTS


class Faults(cli.Application):
    """Inject one syscall failure per run into each launcher's start and compare the outcomes with Go's."""

    names = cli.SwitchAttr("--launchers", str, default="go,py,py-subreaper,py-relay",
                           help="comma or space list; go, the reference, always runs first (named or not); "
                           f"known: {', '.join(launchers.LAUNCHERS)}")  # fmt: skip
    families = cli.SwitchAttr("--families", str, default=",".join(faults.FAMILIES),
                              help=f"comma list of {', '.join(faults.FAMILIES)}")  # fmt: skip
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")
    only = cli.SwitchAttr("--only", str, default="",
                          help="SYSCALL:N:ERRNO,... runs only these injections (each launcher)")  # fmt: skip

    def main(self):
        if shutil.which("strace") is None:
            return verdict.refuse("faults", "strace not installed (apt-get install strace)")
        try:
            chosen = launchers.select(self.names)
            only = faults.parse_only(self.only) if self.only else None
            families = [f for f in self.families.split(",") if f]
            if not families or (bad := set(families) - set(faults.FAMILIES)):
                raise ValueError(f"--families: unknown {', '.join(sorted(bad)) if families else 'empty list'}; "
                                 f"known: {', '.join(faults.FAMILIES)}")  # fmt: skip
        except (KeyError, ValueError) as e:
            return verdict.refuse("faults", e.args[0])
        if len(chosen) < 2:
            return verdict.refuse("faults", "name at least two launchers")
        start, load = time.monotonic(), os.getloadavg()[0]
        result = faults.sweep_families(
            families, chosen, only, stages=lambda total: progress.Stages("faults", total, "injections", sys.stderr)
        )
        meta = {**report.run_metadata(), "families": ",".join(families), **report.timing(start, load)}
        if self.only:
            meta["only"] = self.only
        data = faults.report(result, meta)
        report.publish("faults", faults, result, meta, data, self.out)
        return data["verdict"]["exit"]


if __name__ == "__main__":
    Faults.run()
