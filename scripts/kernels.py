"""Run the parity suite under other kernels, one qemu guest at a time: `make kernels`.

    kernels.py [--kernels 5.10,6.1,6.12,newest] [--cache DIR] [--full] [--cpus 1] [--timeout 1800]

Each kernel is a stock Debian image (fetched once into the cache, through a
private APT_CONFIG), booted under qemu with the host's / read-only as its root
(tests/support/kernelvm.py). Inside: the kernel feature checks, scripts/parity.py, and
the SysProcAttr configurations and start-up paths under pytest (--full: the
whole suite). Writes reports/kernels.{md,html,json} (the JSON starts with
`verdict`), and each guest's own parity report and console log under
reports/kernels/RELEASE/. A terminal shows a progress bar (the guests' consoles
above it); a pipe gets one line per stage. Exit status
(tests/support/verdict.py): 0 Go and Python agree everywhere, 1 they differ
somewhere, 2 something was not verified (a kernel gave no result it could
prove ran on it, a probe or test could not run in a guest) or nothing could run.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from plumbum import cli

from tests.support import kernel_report, kernelvm, report, verdict
from tests.support.kernelvm import KernelError
from tests.support.launchers import LAUNCHER_GO
from tests.support.paths import REPORTS, ROOT
from tests.support.progress import Stages


class Kernels(cli.Application):
    """Compare Go and Python on other Linux kernels, booted under qemu."""

    kernels = cli.SwitchAttr("--kernels", str, default="5.10,6.1,6.12,newest", envname="KERNELS",
                             help="comma list: a series (5.10), newest, or an exact release")  # fmt: skip
    cache = cli.SwitchAttr("--cache", str, envname="KERNELS_CACHE",
                           default=os.path.expanduser("~/.cache/nsport-kernels"),
                           help="where kernels, package lists and initramfs images are kept between runs")  # fmt: skip
    out = cli.SwitchAttr("--out", str, default=str(REPORTS), help="where the reports go")
    full = cli.Flag("--full", envname="KERNELS_FULL", help="run the whole test suite in each guest")
    cpus = cli.SwitchAttr("--cpus", int, default=1, envname="KERNELS_CPUS", help="guest CPUs (qemu -smp)")
    timeout = cli.SwitchAttr("--timeout", float, default=1800.0, envname="KERNELS_TIMEOUT",
                             help="seconds per guest, boot included")  # fmt: skip
    quiet = cli.Flag("--quiet", help="do not copy the guests' consoles to the terminal")

    def main(self):
        try:
            return self.run_kernels()
        except KernelError as e:
            print(f"kernels: {e}", file=sys.stderr)
            return 2

    def run_kernels(self) -> int:
        missing = [f"{cmd} (apt-get install {pkg})" for cmd, pkg in kernelvm.NEEDS.items() if not shutil.which(cmd)]
        if missing:
            raise KernelError(f"missing {', '.join(missing)}")
        if not Path(LAUNCHER_GO.argv[0]).exists():
            raise KernelError("build/launcher-go is missing: run `make build` (make kernels does)")
        wanted = [k.strip() for k in self.kernels.split(",") if k.strip()]
        if not wanted:
            raise KernelError("name at least one kernel (KERNELS=5.10,newest)")
        cache = Path(self.cache)
        cache.mkdir(parents=True, exist_ok=True)
        with open(cache / ".lock", "w") as lock:
            # One run per cache at a time: downloads are not shared half-done, and guests do not pile up.
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"kernels: waiting for another make kernels using {cache}", flush=True)
                fcntl.flock(lock, fcntl.LOCK_EX)
            return self.run_locked(cache, wanted)

    def run_locked(self, cache: Path, wanted: list[str]) -> int:
        apt = kernelvm.Apt(cache / "apt")
        if apt.update():
            print(f"kernels: package lists refreshed in {cache / 'apt'}")
        chosen = kernelvm.resolve(wanted, apt.kernel_packages())
        tests = ("tests",) if self.full else kernelvm.GUEST_TESTS
        command = kernelvm.guest_command(sys.executable, tests)
        records = []
        start = time.monotonic()
        with Stages("kernels", len(chosen), "kernels") as stages:
            for asked, package in chosen.items():
                stages.stage(f"{asked}: fetching {package}")
                kernel = kernelvm.fetch(apt, package, cache / "kernels")
                try:
                    initrd = kernelvm.initramfs(kernel, cache / "initrd")
                except KernelError as e:  # this kernel cannot boot here; the others still can
                    stages.log(f"kernels: {e}\n")
                    records.append(
                        kernel_report.collect(asked, kernel, kernelvm.Run("", None, 0.0, "", error=str(e)), Path())
                    )
                    stages.advance()
                    continue
                job = Path(self.out) / "kernels" / kernel.release
                stages.stage(f"{asked} is {package}: booting (qemu, TCG, {self.cpus} CPU)")
                echo = None if self.quiet else (lambda line: stages.log(f"  {line}"))
                run = kernelvm.boot(kernel, command, job, initrd, cwd=ROOT, timeout=self.timeout, echo=echo,
                                    cpus=self.cpus)  # fmt: skip
                records.append(kernel_report.collect(asked, kernel, run, job))
                state = run.error or f"done, uname -r {run.release}"
                stages.log(f"kernels: {kernel.release}: {state} ({run.seconds:.0f} s)\n")
                stages.advance()
        meta = {
            **report.run_metadata(),
            "host kernel": os.uname().release,
            "qemu": subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout.split(
                "\n"
            )[0],
            "guests": f"TCG, {self.cpus} CPU, one at a time; {'the whole suite' if self.full else ' '.join(tests)}",
            "seconds": f"{time.monotonic() - start:.0f}",
        }
        out = Path(self.out)
        (out / "kernels.md").write_text(kernel_report.markdown(records, meta))
        (out / "kernels.html").write_text(kernel_report.html_page(records, meta))
        (out / "kernels.json").write_text(kernel_report.json_report(records, meta))
        v = kernel_report.make_verdict(records, meta)
        print(verdict.headline(v))
        for line in v["differences"]:
            print(f"  ✗ {line}")
        for item in v["not_verified"]:
            print(f"  ? not verified: {item['where']}: {item['reason']}")
        print(f"{v['counts']['findings']} findings (the kernel changes what both do); "
              f"{verdict.run_line(meta)}")  # fmt: skip
        print(f"reports: {out}/kernels.md, kernels.html, kernels.json")
        return v["exit"]


if __name__ == "__main__":
    Kernels.run()
