"""Run programs nobody here wrote as the command of each launcher: `make workloads`.

    workloads.py [--out reports] [--only NAME,...] [--configs notes,mapped root] [--fast]

Go's own test binaries (syscall, os/exec, os/signal, os: make workloads builds them
into build/gotest/), tini, catatonit and sh as PID 1 over 200 orphans, and nested
sandboxes, each under go, py, py-subreaper, py-relay, unshare and bwrap (the notes'
configuration) and under the SysProcAttr launchers as a mapped root; see
tests/support/workloads.py. Writes reports/workloads.{md,html,json} (the JSON
starts with `verdict`). Exit status (tests/support/verdict.py): 0 every launcher
agrees with the reference (declared differences included), 1 one differs, 2 something
was not verified (a tool or test binary missing, a run without output) or nothing ran.
"""

import sys
import time
from pathlib import Path

from plumbum import cli

from tests.support import report, verdict, workloads, workloads_report
from tests.support.paths import REPORTS
from tests.support.signals import clean_signal_state


class Workloads(cli.Application):
    """Compare Go's launchers and the port's under real workloads."""

    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")
    only = cli.SwitchAttr("--only", str, default="", help="comma list of workload names (as in the report)")
    configs = cli.SwitchAttr("--configs", str, default="notes,mapped root", help="comma list: notes, mapped root")
    fast = cli.Flag("--fast", help="only the slice make test runs (a few of Go's syscall tests, tini)")

    def main(self):
        clean_signal_state()  # ignored signals survive execve: a background make would hand them to every run
        loads = workloads.workloads(fast=self.fast)
        if self.only:
            names = {n.strip() for n in self.only.split(",")}
            unknown = names - {w.name for w in loads}
            if unknown:
                print(f"workloads: unknown workload {', '.join(sorted(unknown))}; known: "
                      f"{', '.join(w.name for w in loads)}", file=sys.stderr)  # fmt: skip
                return 2
            loads = [w for w in loads if w.name in names]
        every = workloads.configurations()
        chosen = [c.strip() for c in self.configs.split(",") if c.strip()]
        if unknown := [c for c in chosen if c not in every]:
            print(f"workloads: unknown configuration {', '.join(unknown)}; known: {', '.join(every)}", file=sys.stderr)
            return 2
        start = time.monotonic()
        records = workloads.run_all(
            loads,
            {c: every[c] for c in chosen},
            progress=lambda what: print(f"workloads: {what}", file=sys.stderr, flush=True),
        )
        meta = {**report.run_metadata(), "seconds": f"{time.monotonic() - start:.1f}"}
        out = Path(self.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "workloads.json").write_text(workloads_report.json_report(records, meta))  # first: the raw runs
        (out / "workloads.md").write_text(workloads_report.markdown(records, meta))
        (out / "workloads.html").write_text(workloads_report.html_page(records, meta))
        print(workloads_report.terminal(records, meta), end="")
        print(f"reports: {out}/workloads.md, workloads.html, workloads.json")
        return workloads.make_verdict(records, meta)["exit"]


if __name__ == "__main__":
    try:
        Workloads.run()
    except KeyboardInterrupt:
        sys.exit(verdict.refuse("workloads", "interrupted"))
