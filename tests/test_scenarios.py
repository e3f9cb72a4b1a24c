"""The os/exec scenario corpus replayed: Go's os/exec (build/scenario-go) and port.exec
(tests/programs/scenario.py) print the same transcript for every scenario, and Go's
shows the lines the corpus entry names (so each entry still exercises its class)."""

import pytest

from tests.support.scenario import load_corpus, run

CORPUS = load_corpus()
# Divergences not yet fixed in port/exec.py: each must still differ (strict), until its fix.
KNOWN: set[str] = set()


def _param(entry: dict):
    marks = [pytest.mark.xfail(strict=True, reason="not fixed yet")] if entry["name"] in KNOWN else []
    return pytest.param(entry, id=entry["name"], marks=marks)


@pytest.mark.parametrize("entry", [_param(e) for e in CORPUS])
def test_corpus_scenario_go_and_port_agree(entry):
    outcome = run(entry["scenario"])
    lines = outcome.go.splitlines()
    missing = [line for line in entry["go_shows"] if line not in lines]
    assert not missing, f"Go's transcript lacks {missing}:\n{outcome.go}"
    assert outcome.py == outcome.go


def test_corpus_covers_every_class_once_named():
    names = [e["name"] for e in CORPUS]
    assert len(names) == len(set(names))
    assert {e["class"] for e in CORPUS} >= {
        "pipe ends after close",
        "write to a StdinPipe whose reader has gone",
        "a Stdout writer reporting a short write",
        "a closed file as Stdin, Stdout or in ExtraFiles",
        "Process.Wait then Cmd.Wait",
        "Dir with a NUL",
    }
