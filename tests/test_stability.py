"""The probes report what the launcher determines, not what the host happens to hold.

Two full parity runs of the same launchers must give the same facts, probe
by probe, for each launcher and for the host's own column: a fact that
changes from one run to the next (a count of the host's objects, a lookup
that depends on which host pids exist) would make a launcher look different
from itself.
"""

import pytest

from tests.support import parity
from tests.support.launchers import GO, PY

pytestmark = pytest.mark.userns


def all_facts(results: dict) -> dict[str, dict]:
    facts = {f"host: {name}": seen["facts"] for name, seen in results["host"].items()}
    for launcher, observations in results["observations"].items():
        facts.update({f"{launcher}: {name}": seen["facts"] for name, seen in observations.items()})
    return facts


def test_two_runs_give_the_same_facts():
    first, second = all_facts(parity.run_all([GO, PY])), all_facts(parity.run_all([GO, PY]))
    assert first.keys() == second.keys()
    changed = {k: (first[k], second[k]) for k in first if first[k] != second[k]}
    assert not changed, "\n".join(f"{k}:\n  first:  {a}\n  second: {b}" for k, (a, b) in changed.items())
