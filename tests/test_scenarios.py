"""Go's os/exec (build/scenario-go) and port.exec (tests/programs/scenario.py) print the same
transcript for every scenario of the corpus (tests/scenarios/corpus.json), whose Go transcript
shows the lines its entry names (so each entry still exercises its class), and for a fixed slice
of generated ones (tests/support/scenario_gen.py), and for generated launcher command lines
(tests/support/launcher_gen.py)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hseed

from tests.support.launcher_gen import launcher_scenarios
from tests.support.scenario import load_corpus, run
from tests.support.scenario_gen import scenarios

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
        "RELAY's middle process as the tracer",
    }


# A fixed slice of generated scenarios: os/exec calls (tests/support/scenario_gen.py, three seeds of 8) and
# launcher command lines (tests/support/launcher_gen.py, two of 12), so xdist spreads them; a divergence
# fails with hypothesis's shrunk scenario and both transcripts.
GENERATED = [(scenarios, seed, 8) for seed in (1, 2, 3)] + [(launcher_scenarios, seed, 12) for seed in (1, 2)]


@pytest.mark.parametrize(("strategy", "seed", "n"), GENERATED, ids=lambda v: getattr(v, "__name__", str(v)))
def test_generated_scenarios_go_and_port_agree(strategy, seed, n):
    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy())
    def agree(scenario):
        outcome = run(scenario)
        assert outcome.py == outcome.go, f"{scenario}\nGo:\n{outcome.go}\nport:\n{outcome.py}"

    agree()


def test_fuzz_report_groups_divergences_and_shows_the_smallest_scenario():
    from tests.support import fuzz
    from tests.support.scenario import Outcome

    agree = Outcome("Run -> <nil>\n", "Run -> <nil>\n")
    differs = Outcome("Run -> short write\n", "Run -> <nil>\n")
    small, large = {"args": ["true"], "calls": ["Run"]}, {"args": ["true"], "calls": ["Run"], "dir": "/"}
    results = [(large, differs), (small, differs), ({"args": ["x"]}, agree), ({"args": ["y"]}, "timed out after 20 s")]
    report = fuzz.analyse(results, {"date": "d"}, seed=1, drawn=4)
    v = report["verdict"]
    assert (v["state"], v["exit"]) == ("differs", 1)
    assert v["counts"] == {"drawn": 4, "scenarios": 4, "differs": 2, "kinds": 1, "not verified": 1}
    [d] = report["divergences"]
    assert d["scenario"] == small and d["count"] == 2
    assert d["difference"] == "go: Run -> short write | port: Run -> <nil>"
    md = fuzz.markdown(report)
    assert md.startswith("# ") and "✗ DIFFERS" in md and "port: Run -> <nil>" in md and "\\|" in md


def test_fuzz_script_writes_its_reports_verdict_first(tmp_path):
    import json
    import subprocess

    from tests.support.paths import PYTHON, ROOT

    p = subprocess.run([PYTHON, "scripts/fuzz.py", "--n", "6", "--seed", "3", "--reports", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("✓ MATCH: ")
    report = json.loads((tmp_path / "fuzz.json").read_text())
    assert next(iter(report)) == "verdict" and report["seed"] == 3
    assert (tmp_path / "fuzz.md").read_text().startswith("# os/exec and launcher scenarios")


def test_a_divergence_is_shrunk_to_the_fewest_parts_that_still_show_it():
    """make fuzz cuts each divergence down (tests/support/fuzz.py shrink): here a fake engine in which
    only a closed stdin together with a CloseStdin call differs; everything else is cut away."""
    from tests.support import fuzz
    from tests.support.scenario import Outcome

    def run_one(s):
        differs = s.get("stdin") == "closed" and "CloseStdin" in s.get("calls", [])
        return Outcome("Wait -> <nil>\n", "Wait -> boom\n" if differs else "Wait -> <nil>\n")

    drawn = {"args": ["cat"], "stdin": "closed", "stdout": "buffer", "env": ["A=1"], "dir": "/",
             "calls": ["StdinPipe", "Start", "CloseStdin", "Write:x", "Wait"]}  # fmt: skip
    difference = "go: Wait -> <nil> | port: Wait -> boom"
    shrunk, outcome = fuzz.shrink(drawn, difference, run_one)
    assert shrunk == {"args": ["cat"], "stdin": "closed", "calls": ["CloseStdin"]}
    assert not outcome.same
    report = {"divergences": [{"difference": difference, "count": 1, "scenario": drawn, "go": "", "py": ""}]}
    fuzz.shrink_all(report, run_one)
    assert report["divergences"][0]["scenario"] == shrunk and report["divergences"][0]["drawn"] == drawn
