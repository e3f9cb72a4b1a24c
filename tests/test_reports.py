"""The parity reports: expected differences, exit statuses, and views a person reads.

The first tests are pure data (a made-up run), so they say exactly what each
view must show; the last run `make parity`'s script with third-party launchers.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from rich.console import Console

from tests.support import parity, report
from tests.support.launchers import BWRAP, GO, UNSHARE, Expected, Launcher
from tests.support.paths import ROOT
from tests.support.probe import Probe


def _probe(name: str) -> Probe:
    return Probe(name, "echo {hostname}", lambda raw, ctx: {}, about=f"the {name} probe")


PROBES = [_probe("alpha"), _probe("omega")]
THIRD = Launcher("third", ("third", "--flag"), "a third-party launcher",
                 expected=(Expected("omega", "banner", "", "prints no banner"),))  # fmt: skip


def _results(third_banner: str, third_status: int = 2) -> dict:
    """A run of go, py and THIRD over two probes; THIRD differs as told."""
    long_ref = "x" * 200 + " the end"

    def seen(facts: dict) -> dict:
        return {"output": "raw <out> & more\n", "status": 0, "look": None, "facts": facts}

    obs = {
        "go": {"alpha": seen({"same": 1, "long": long_ref}), "omega": seen({"banner": "main starting...", "rc": 1})},
        "py": {"alpha": seen({"same": 1, "long": long_ref}), "omega": seen({"banner": "main starting...", "rc": 1})},
        "third": {
            "alpha": seen({"same": 1, "long": long_ref.replace("the end", "THE END")}),
            "omega": seen({"banner": third_banner, "rc": third_status}),
        },
    }
    return {
        "launchers": [GO.as_data(), {"name": "py", "argv": ["py"], "about": "", "expected": []}, THIRD.as_data()],
        "commands": {"alpha": "echo vm", "omega": "echo vm"},
        "host": {"alpha": {"output": "<host>\n", "facts": {"same": 1}}},
        "observations": obs,
    }


def test_a_declared_difference_is_expected_with_its_reason():
    rows = {r["name"]: r for r in parity.compare(_results(third_banner=""), PROBES)}
    omega = rows["omega"]
    assert omega["expected"] == {"third": [{"fact": "banner", "value": "", "why": "prints no banner"}]}
    assert omega["differs"] == {"third": ["rc"]}  # not declared: a mismatch
    assert rows["alpha"]["differs"] == {"third": ["long"]}


def test_a_declared_fact_with_another_value_still_differs():
    rows = {r["name"]: r for r in parity.compare(_results(third_banner="hello"), PROBES)}
    assert rows["omega"]["differs"] == {"third": ["banner", "rc"]}
    assert rows["omega"]["expected"] == {}


def test_commands_are_shown_as_run_not_as_templates():
    rows = parity.compare(_results(""), PROBES)
    assert [r["command"] for r in rows] == ["echo vm", "echo vm"]
    page = report.html_page(rows, _results(""), {"date": "today"})
    assert "{hostname}" not in page and "echo vm" in page


def test_clip_keeps_the_part_that_differs():
    ref = "a" * 100 + "b" * 100
    other = "a" * 100 + "c" * 100
    cut = report.clip(other, ref, 30)
    assert len(cut) == 30 and cut.startswith("…") and "c" in cut and "a" in cut
    assert report.clip("short", "shirt", 30) == "short"
    head = report.clip("z" * 100, None, 20)
    assert head == "z" * 19 + "…"


@pytest.mark.parametrize("width", [60, 100, 160])
def test_terminal_table_fits_the_width_and_has_every_header(width):
    results = _results("")
    rows = parity.compare(results, PROBES)
    text = report.text_table(rows, results, Console(width=width, force_terminal=False, highlight=False))
    table = text.split("\n\n")[0]
    assert max(len(line) for line in text.splitlines()) <= width
    header = next(line for line in table.splitlines() if "probe" in line)
    for column in ("probe", "fact", "host", "go", "py", "agrees"):
        assert column in header, f"no {column!r} header at width {width}: {header!r}"
    assert "\x1b[" not in text, "colour without a tty"
    assert "…" in text
    assert "MISMATCH alpha: third differs from go in long" in text
    assert "expected omega: third banner = '-': prints no banner" in text


def test_terminal_table_shows_the_differing_end_of_a_long_cell():
    results = _results("")
    rows = parity.compare(results, PROBES)
    text = report.text_table(rows, results, Console(width=120, force_terminal=False))
    long_line = next(line for line in text.splitlines() if " long " in line)
    assert "THE END" in long_line or "THE EN" in long_line, long_line


def test_colour_on_a_tty():
    results = _results("")
    rows = parity.compare(results, PROBES)
    assert "\x1b[" in report.text_table(rows, results, Console(width=120, force_terminal=True))


def test_html_names_each_difference_first_and_escapes():
    results = _results("")
    rows = parity.compare(results, PROBES)
    page = report.html_page(rows, results, report.run_metadata())
    summary = page[: page.index("<h2>Launchers</h2>")]
    assert '<a href="#probe-alpha">alpha</a>: <b>third</b> differs in long' in summary
    assert "prints no banner" in summary  # the reason of the expected difference
    assert "<out>" not in page and "raw &lt;out&gt; &amp; more" in page
    assert 'id="probe-alpha"' in page
    assert re.search(r'<td class="v differs">✗ x+ THE END</td>', page), "the differing cell is marked"
    assert '<td class="v expected">≈ -<span class="why">prints no banner</span></td>' in page  # no hover needed
    assert "<code>third --flag</code>" in page
    for key in ("date", "kernel", "distribution", "user", "python", "go", "git commit"):
        assert f"<dt>{key}</dt>" in page


def test_markdown_and_json_carry_the_same():
    results = _results("")
    rows = parity.compare(results, PROBES)
    meta = {"date": "today", "kernel": "Linux"}
    md = report.markdown(rows, results, meta)
    assert "MISMATCH alpha: third differs from go in long" in md
    assert "| omega | banner | `-` | prints no banner |" in md
    assert "`third --flag`" in md and "| kernel | Linux |" in md and "echo vm" in md
    data = json.loads(report.json_report(rows, results, meta))
    assert data["meta"] == meta
    assert data["summary"]["mismatches"] == [
        {"probe": "alpha", "launcher": "third", "facts": ["long"]},
        {"probe": "omega", "launcher": "third", "facts": ["rc"]},
    ]
    assert data["summary"]["expected"][0]["why"] == "prints no banner"
    assert data["launchers"][2]["command"] == "third --flag"
    assert data["probes"][0]["command"] == "echo vm"


# --- the script, with the real third-party launchers ---------------------------------------


def _parity(tmp_path, names: str, prefix: tuple[str, ...] = (), columns: int = 100,
            probes: str = "") -> subprocess.CompletedProcess:  # fmt: skip
    return subprocess.run(
        [*prefix, sys.executable, "scripts/parity.py", "--launchers", names, "--probes", probes,
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": str(columns)},
    )  # fmt: skip


def _need(launcher: Launcher) -> None:
    if problem := launcher.missing():
        pytest.skip(problem)


@pytest.mark.userns
def test_third_party_launchers_pass_with_only_expected_differences(tmp_path):
    """COLUMNS=80 make parity LAUNCHERS=go,py,unshare,bwrap | cat: only declared differences, the verdict
    first, every declared difference with its whole reason, no line past 80, no value cut below 12
    characters, no word broken."""
    _need(UNSHARE)
    _need(BWRAP)
    proc = _parity(tmp_path, "go,py,unshare,bwrap", columns=80)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "parity.json").read_text())
    assert data["summary"]["mismatches"] == []
    seen = {(e["launcher"], e["probe"], e["fact"]) for e in data["summary"]["expected"]}
    assert ("bwrap", "pid", "$$") in seen and ("unshare", "exit", "printed at start") in seen
    page = (tmp_path / "parity.html").read_text()
    assert "bwrap&#39;s own reaper makes sh PID 2" in page
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("✓ MATCH: 15/15 probes match go")
    assert "legend: ✓ same as go · ≈ a difference the launcher declares" in proc.stdout
    assert max(len(line) for line in lines if not line.startswith("reports: ")) <= 80  # a path is not cut
    words = set(proc.stdout.split())
    for e in data["summary"]["expected"]:
        assert e["fact"].split()[0] in words
        for word in e["why"].split():
            assert word in words, f"{word!r} of {e['why']!r} is missing or broken"
    cut = [w for w in proc.stdout.split() if "…" in w and len(w) < 12]
    assert not cut, cut


@pytest.mark.root
@pytest.mark.userns
def test_third_party_launchers_pass_where_root_is_shared(tmp_path):
    """As on a systemd host: the run in a mount namespace of its own whose / is made shared (never the host's).
    The probes that mount (mount, proc), the ones a shared / can change; the test above runs every probe
    under the same four launchers."""
    _need(UNSHARE)
    _need(BWRAP)
    shared = ("unshare", "--mount", "sh", "-c", 'mount --make-rshared / && exec "$@"', "shared")
    proc = _parity(tmp_path, "go,py,unshare,bwrap", prefix=shared, probes="mount,proc")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "parity.json").read_text())
    mount = next(p for p in data["probes"] if p["name"] == "mount")
    assert mount["launchers"]["go"]["facts"]["propagation of /"] == "slave"
    assert mount["expected"]["unshare"][0]["why"] == "unshare makes / private (its --propagation default)"


@pytest.mark.userns
def test_an_unexpected_difference_still_fails_beside_expected_ones(tmp_path):
    _need(BWRAP)
    proc = _parity(tmp_path, "go,bwrap,py-no-uts", probes="hostname,pid")  # py-no-uts's, and one of bwrap's
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MISMATCH hostname: py-no-uts differs from go" in proc.stdout
    data = json.loads((tmp_path / "parity.json").read_text())
    assert {m["launcher"] for m in data["summary"]["mismatches"]} == {"py-no-uts"}
    assert any(e["launcher"] == "bwrap" for e in data["summary"]["expected"])


def test_a_missing_launcher_is_named(tmp_path, monkeypatch):
    missing = Launcher("nope", ("nsport-no-such-program",), "", package="nsport-nothing")
    assert missing.missing() == "nsport-nothing (nsport-no-such-program) not installed"
    assert GO.missing() is None
