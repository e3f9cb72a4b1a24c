"""The README's figures come from kept snapshots (tests/support/figures.py); make figures refuses a
run that cannot stand for the suite, and a block that is not what its snapshot gives is out of date."""

import json
import time

import pytest

from tests.support import figures, run_record

RUN = {"date": "2026-12-02 06:00 UTC", "commit": "abc1234", "python": "3.11.7", "passed": 950, "skipped": 7,
       "failed": 0, "error": 0, "xfailed": 0, "seconds": 71.5, "load": {"before": 2.5, "after": 3.1, "cores": 2},
       "args": ["-n", "auto", "--dist", "loadgroup", "--run-record", "reports/test-run.json"]}  # fmt: skip
README = "intro\n<!-- figure:test -->\nold words\n<!-- /figure:test -->\nend\n"


def _take(tmp_path, report: dict) -> tuple[list[str], list[str]]:
    reports, kept = tmp_path / "reports", tmp_path / "figures"
    reports.mkdir(exist_ok=True)
    (reports / "test-run.json").write_text(json.dumps(report))
    said = figures.snapshot(reports, kept)
    return said, sorted(p.name for p in kept.iterdir())


def test_a_whole_passing_run_becomes_the_figure_with_its_circumstances(tmp_path):
    said, kept = _take(tmp_path, RUN)
    assert "test: took" in said[0] and kept == ["test.json"]
    text, problems = figures.fill(README, tmp_path / "figures")
    assert problems == []
    block = text.split("<!-- figure:test -->\n")[1].split("<!-- /figure:test -->")[0]
    assert "**950 passed, 7 skipped** in 71.5 s" in block
    assert "`abc1234`" in block and "2026-12-02 06:00 UTC" in block and "2.5 before, 3.1 after on 2 cores" in block
    assert figures.fill(text, tmp_path / "figures")[0] == text  # written once, it stays


def test_a_run_with_its_cpu_seconds_says_how_busy_the_machine_was(tmp_path):
    _take(tmp_path, {**RUN, "cpu_seconds": {"busy": 41.2, "steal": 0.1}})
    text, _ = figures.fill(README, tmp_path / "figures")
    assert "in 71.5 s of pytest (41.2 CPU-seconds busy), load" in text


def test_the_machines_busy_cpu_seconds_grow_with_work():
    before, t0 = run_record.cpu_seconds(), time.process_time()
    while time.process_time() - t0 < 0.2:  # busy on this CPU: the machine's busy time grows at least as much
        pass
    assert run_record.cpu_seconds()["busy"] - before["busy"] >= 0.15


@pytest.mark.parametrize(("change", "why"), [
    ({"failed": 1}, "1 failures"),
    ({"args": ["-n", "auto", "-k", "pidfd"]}, "only part of the suite"),
    ({"args": ["tests/test_parity.py"]}, "only part of the suite"),
])  # fmt: skip
def test_a_failing_or_partial_run_is_not_taken(tmp_path, change, why):
    said, kept = _take(tmp_path, {**RUN, **change})
    assert why in said[0] and kept == []


def test_a_block_without_its_snapshot_is_a_problem_and_left_alone(tmp_path):
    text, problems = figures.fill(README, tmp_path)
    assert text == README
    assert problems == [f"README figure 'test': no snapshot {tmp_path / 'test.json'} (run make figures)"]


META = {"date": "2026-12-02 09:00:00 UTC", "git commit": "abc1234", "launches": "272", "seconds": "19.6",
        "load average": "6.02 before, 7.09 after on 2 cores"}  # fmt: skip
UNVERIFIED = [{"where": "--clone user as nobody", "reason": "a timeout"}]
MATRIX = {"meta": META, "verdict": {"state": "not verified", "summary": "135/136 cells: Go and Python agree",
                                    "counts": {}, "differences": [], "not_verified": UNVERIFIED}}  # fmt: skip


def test_a_comparison_figure_gives_its_run_and_names_what_was_not_verified():
    block = figures.FIGURES["matrix"].render(figures.FIGURES["matrix"].keep(MATRIX))
    assert block.startswith("`make matrix` at commit `abc1234` (2026-12-02 09:00:00 UTC, 19.6 s, load average 6.02 "
                            "before, 7.09 after on 2 cores): 272 launches; **not verified**")  # fmt: skip
    assert block.endswith("\n- not verified: --clone user as nobody: a timeout")


@pytest.mark.parametrize(("meta", "why"), [
    ({"git commit": "abc1234 (with uncommitted changes)"}, "uncommitted changes"),
    ({"only": "--flags 'user' --privileges root"}, "narrowed"),
    ({"load average": None}, "no time or load"),
])  # fmt: skip
def test_a_comparison_run_that_cannot_stand_for_the_target_is_not_taken(meta, why):
    report = {**MATRIX, "meta": {k: v for k, v in {**META, **meta}.items() if v is not None}}
    with pytest.raises(figures.FigureError, match=why):
        figures.FIGURES["matrix"].keep(report)


def test_the_mutants_figure_keeps_which_test_killed_each_mutant():
    """make mutants runs that test first next time (tests/support/mutants.py kill_hints): the figure keeps it
    under the mutant's key, and only for a kill."""

    def mutant(line: int, outcome: str, killed_by: str) -> dict:
        return {"file": "port/a.py", "function": "f", "line": line, "before": f"x = {line}", "after": f"x = {line + 1}",
                "outcome": outcome, "killed_by": killed_by, "declared": False}  # fmt: skip

    report = {"run": {"commit": "abc1234"}, "files": {"port/a.py": {"pending": 0}},
              "mutants": [mutant(1, "killed", "tests/test_a.py::one"), mutant(2, "killed", "tests/test_a.py::two"),
                          mutant(3, "survived", ""), mutant(4, "timeout", "tests/test_a.py::one")]}  # fmt: skip
    killers = figures.FIGURES["mutants"].keep(report)["killers"]
    named = {key: killers["tests"][i] for key, i in killers["by"].items()}
    assert named == {figures.killer_key("port/a.py", "f", "x = 1", "x = 2"): "tests/test_a.py::one",
                     figures.killer_key("port/a.py", "f", "x = 2", "x = 3"): "tests/test_a.py::two"}  # fmt: skip
