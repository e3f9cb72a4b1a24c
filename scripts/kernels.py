"""Run the parity suite under other kernels, one qemu guest at a time: `make kernels`.

    kernels.py [--arch amd64] [--kernels 5.10,6.1,6.12,newest] [--cache DIR] [--full] [--cpus 1] [--timeout 1800]

Each kernel is a stock Debian image (fetched once into the cache, through a
private APT_CONFIG), booted under qemu with the host's / read-only as its root
(tests/support/kernelvm.py). --arch arm64 boots Debian's arm64 kernels under
qemu-system-aarch64 instead, with a root assembled from Debian's arm64 packages,
the Go programs cross-built into build/arm64/ (make kernels ARCH=arm64 builds them)
and the venv's compiled packages from aarch64 wheels. Inside: the kernel feature checks, scripts/parity.py, and
the SysProcAttr configurations and start-up paths under pytest (--full: the
whole suite). Writes reports/kernels.{md,html,json} (the JSON starts with
`verdict`), and each guest's own parity report, console log and record under
reports/kernels/RELEASE/; the reports show every record there, one column per
(architecture, kernel), so runs for amd64 and arm64 add up. A terminal shows a progress bar (the guests' consoles
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
import sysconfig
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

    arch = cli.SwitchAttr("--arch", str, default="amd64",
                          help=f"the guests' architecture: {', '.join(kernelvm.ARCHES)}")  # fmt: skip
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
        arch = kernelvm.arch(self.arch)
        needs = kernelvm.needs(arch)
        missing = [f"{cmd} (apt-get install {pkg})" for cmd, pkg in needs.items() if not shutil.which(cmd)]
        if missing:
            raise KernelError(f"missing {', '.join(missing)}")
        launcher = Path(LAUNCHER_GO.argv[0])
        if not arch.native:
            launcher = launcher.parent / arch.name / launcher.name
        if not launcher.exists():
            make = "make kernels" + ("" if arch.native else f" ARCH={arch.name}")
            raise KernelError(f"{launcher.relative_to(ROOT)} is missing: {make} builds it")
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
            return self.run_locked(cache, wanted, arch)

    def run_locked(self, cache: Path, wanted: list[str], arch: kernelvm.Arch) -> int:
        apt = kernelvm.Apt(cache / ("apt" if arch.native else f"apt-{arch.name}"), arch.name)
        if apt.update():
            print(f"kernels: package lists refreshed in {apt.root}")
        chosen = kernelvm.resolve(wanted, apt.kernel_packages(), arch.name)
        if arch.native:
            guest = kernelvm.host_guest(sys.executable)
        else:
            print(f"kernels: the {arch.name} root: Debian's packages and {arch.machine} wheels, in {cache}")
            site = Path(sysconfig.get_paths()["purelib"])
            guest = kernelvm.foreign_guest(arch, apt, cache, ROOT, site, sys.executable)
        tests = ("tests",) if self.full else kernelvm.GUEST_TESTS
        command = kernelvm.guest_command(guest.python, tests)
        records = []
        start = time.monotonic()
        with Stages("kernels", len(chosen), "kernels") as stages:
            for asked, package in chosen.items():
                stages.stage(f"{asked}: fetching {package}")
                kernel = kernelvm.fetch(apt, package, cache / "kernels")
                try:
                    initrd = kernelvm.initramfs(kernel, cache / "initrd", busybox=guest.busybox)
                except KernelError as e:  # this kernel cannot boot here; the others still can
                    stages.log(f"kernels: {e}\n")
                    run = kernelvm.Run("", None, 0.0, "", error=str(e))
                    records.append(kernel_report.collect(asked, kernel, run, Path(), arch.name))
                    stages.advance()
                    continue
                job = Path(self.out) / "kernels" / kernel.release
                stages.stage(f"{asked} is {package}: booting ({arch.qemu}, TCG, {self.cpus} CPU)")
                echo = None if self.quiet else (lambda line: stages.log(f"  {line}"))
                run = kernelvm.boot(kernel, command, job, initrd, cwd=ROOT, timeout=self.timeout, echo=echo,
                                    arch=arch, root=guest.root, guest_files=guest.files, cpus=self.cpus)  # fmt: skip
                records.append(kernel_report.collect(asked, kernel, run, job, arch.name))
                state = run.error or f"done, uname -r {run.release}"
                stages.log(f"kernels: {kernel.release}: {state} ({run.seconds:.0f} s)\n")
                stages.advance()
        meta = {
            **report.run_metadata(),
            "host kernel": os.uname().release,
            "qemu": subprocess.run([arch.qemu, "--version"], capture_output=True, text=True).stdout.split("\n")[0],
            "guests": f"{arch.name}, TCG, {self.cpus} CPU, one at a time; "
            f"{'the whole suite' if self.full else ' '.join(tests)}",
            "seconds": f"{time.monotonic() - start:.0f}",
        }
        out = Path(self.out)
        # This run's records join the ones earlier runs left (other architectures, other kernels);
        # each says when and at which commit it ran.
        for record in records:
            record["ran"] = f"{meta['date']}, {meta.get('git commit', 'unknown commit')}"
        shown = kernel_report.combine(kernel_report.stored(out / "kernels"), records)
        for record in records:
            kernel_report.store(out / "kernels", record)
        (out / "kernels.md").write_text(kernel_report.markdown(shown, meta))
        (out / "kernels.html").write_text(kernel_report.html_page(shown, meta))
        (out / "kernels.json").write_text(kernel_report.json_report(shown, meta))
        v = kernel_report.make_verdict(records, meta)  # the exit status: this run's kernels alone
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
