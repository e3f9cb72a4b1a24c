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

from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY, SCENARIO_GO, SCENARIO_PY
from tests.support.paths import ROOT
from tests.support.piped import launch

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


def launcher_transcript(argv: tuple[str, ...], args: list[str]) -> str:
    """A launcher's stdout, stderr (Go's log times masked) and status, stdin /dev/null."""
    out, err, status = launch(argv, args, cwd=ROOT)
    return (f"[stdout]\n{out.decode(errors='backslashreplace')}[stderr]\n{err.decode(errors='backslashreplace')}"
            f"[status {status}]\n")  # fmt: skip


def run(scenario: dict) -> Outcome:
    if scenario.get("kind") == "launcher":  # tests/support/launcher_gen.py
        args = scenario["argv"]
        return Outcome(launcher_transcript(LAUNCHER_GO.argv, args), launcher_transcript(LAUNCHER_PY.argv, args))
    return Outcome(transcript(SCENARIO_GO.argv, scenario), transcript(SCENARIO_PY.argv, scenario))


def load_corpus(path: Path = CORPUS) -> list[dict]:
    """The corpus: a list of {"name", "class", "scenario", "go_shows": [lines]}."""
    return json.loads(path.read_text())
