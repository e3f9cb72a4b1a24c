"""The os/exec scenario engine: run one scenario under Go's os/exec and under port.exec, compare.

A scenario is JSON data (the format: reference_go/scenario/main.go): the command,
each std stream's kind, ExtraFiles, a few SysProcAttr fields, a context, WaitDelay
and the sequence of API calls. build/scenario-go and tests/programs/scenario.py each
run it and print a transcript, one line per call (its result and Go's error text),
then the buffers, the ProcessState and the pipe descriptors left open; nothing in
it is a pid, an inode or a time, so the transcripts compare as they are.
The corpus (tests/scenarios/corpus.json) holds one scenario per divergence class
found, with lines Go's transcript must show; tests/test_scenarios.py replays it.
"""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.launchers import SCENARIO_GO, SCENARIO_PY
from tests.support.paths import ROOT

CORPUS = ROOT / "tests" / "scenarios" / "corpus.json"
TIMEOUT = 20


@dataclass(frozen=True)
class Outcome:
    """Go's and the port's transcripts of one scenario."""

    go: str
    py: str

    @property
    def same(self) -> bool:
        return self.go == self.py


def transcript(argv: tuple[str, ...], scenario: dict) -> str:
    """One interpreter's transcript; its status and stderr are part of it when not 0 and empty."""
    p = subprocess.run(argv, input=json.dumps(scenario).encode(), capture_output=True, timeout=TIMEOUT, cwd=ROOT)
    out = p.stdout.decode(errors="backslashreplace")
    if p.returncode or p.stderr:
        out += f"[status {p.returncode}] {p.stderr.decode(errors='backslashreplace')}"
    return out


def run(scenario: dict) -> Outcome:
    return Outcome(transcript(SCENARIO_GO.argv, scenario), transcript(SCENARIO_PY.argv, scenario))


def load_corpus(path: Path = CORPUS) -> list[dict]:
    """The corpus: a list of {"name", "class", "scenario", "go_shows": [lines]}."""
    return json.loads(path.read_text())
