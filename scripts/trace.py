"""make trace: each launcher's start under strace -f, its syscalls lined up with Go's.

    scripts/trace.py [--launchers go,py,py-subreaper,py-relay] [--out reports]

Writes reports/trace.{md,html,json}; exits 1 when a difference has no
explanation, 2 when strace or a named launcher is missing. The work is in
tests/support/trace.py.
"""

import json
import shutil
import sys
from pathlib import Path

from plumbum import cli

from tests.support import launchers
from tests.support.paths import REPORTS
from tests.support.trace import html, markdown, trace


class Trace(cli.Application):
    """Trace each launcher's start and compare the syscalls with Go's."""

    names = cli.SwitchAttr("--launchers", str, default="go,py,py-subreaper,py-relay",
                           help="comma or space list; go, the reference, always runs first (named or not); "
                           f"known: {', '.join(launchers.LAUNCHERS)}")  # fmt: skip
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")

    def main(self):
        if shutil.which("strace") is None:
            print("trace: strace not installed (apt-get install strace)", file=sys.stderr)
            return 2
        try:
            chosen = launchers.select(self.names)
        except KeyError as e:
            print(f"trace: {e.args[0]}", file=sys.stderr)
            return 2
        result = trace(chosen)
        out = Path(self.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "trace.json").write_text(json.dumps(result, indent=2) + "\n")
        (out / "trace.md").write_text(markdown(result))
        (out / "trace.html").write_text(html(result))
        for run in result["launchers"]:
            print(f"{run['name']:<14} {run['start_to_exec_ms']} ms  {' ; '.join(run['namespace_calls'])}")
        for cmp in result["comparisons"]:
            match = cmp["namespace_calls_match"]
            print(f"{cmp['port']}: {cmp['differences']} rows differ from {chosen[0].name}, "
                  f"{cmp['unexplained']} unexplained; namespace calls match: {match}")  # fmt: skip
        print(f"reports: {out}/trace.md, trace.html, trace.json")
        return 1 if any(c["unexplained"] for c in result["comparisons"]) else 0


if __name__ == "__main__":
    Trace.run()
