"""Progress of a long run (make matrix, make kernels): rich's bar on a tty, one line per stage in a pipe.

with Stages("matrix", total=272, unit="launches") as stages:
    stages.stage("root and nobody cells")   # a line when piped; the bar's text on a tty
    stages.advance()                        # piped: a line at each quarter of the total
    stages.log("a line of its own")         # above the bar on a tty
"""

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Stages:
    def __init__(self, name: str, total: int, unit: str = "", stream=None, tty: bool | None = None):
        self.name, self.total, self.unit = name, total, unit
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = 0
        self.start = time.monotonic()
        self._quarter = 0
        self._bar: Progress | None = None
        self._task = None

    def __enter__(self) -> "Stages":
        if self.tty:
            self._bar = Progress(TextColumn(f"{self.name}: " + "{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn(self.unit), TimeElapsedColumn(),
                                 console=Console(file=self.stream), transient=True)  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task("", total=self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _line(self, text: str) -> None:
        print(f"{self.name}: {text}", file=self.stream, flush=True)

    def stage(self, text: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=text)
        else:
            self._line(text)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.advance(self._task, n)
            return
        quarter = 4 * self.done // self.total if self.total else 4
        if quarter > self._quarter:
            self._quarter = quarter
            self._line(f"{self.done}/{self.total} {self.unit} done ({time.monotonic() - self.start:.0f} s)")

    def log(self, line: str) -> None:
        if self._bar is not None:
            self._bar.console.print(line, highlight=False, markup=False, end="")
        else:
            print(line, end="", file=self.stream, flush=True)
