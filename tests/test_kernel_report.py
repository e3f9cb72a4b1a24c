"""make kernels' reports (tests/support/kernel_report.py) and its guest command (tests/support/kernelvm.py): no qemu."""

import json
import subprocess
import sys

from tests.support import kernel_report as kr
from tests.support import kernelvm
from tests.support.inprocess import run_script
from tests.support.kernelvm import Kernel, Run
from tests.support.paths import ROOT

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_sysprocattr" name="test_field_parity[notes]" time="30.1"/>
<testcase classname="tests.test_sysprocattr" name="test_field_parity[cgroup-time]" time="0.1">
<skipped type="pytest.skip" message="the kernel lacks time namespaces (/proc/self/ns/time)">skip</skipped></testcase>
<testcase classname="tests.test_sysprocattr" name="test_field_parity[ptrace]" time="1.0">
<failure message="AssertionError: go and py differ">trace</failure></testcase>
<testcase classname="tests.test_notes_paths" name="test_shell_exits_zero" time="0.4">
<skipped type="pytest.skip" message="needs euid 0 on the host (CI runs as root)">skip</skipped></testcase>
</testsuite></testsuites>"""


def test_junit_outcomes_and_skip_reasons():
    tests = kr.junit_tests(JUNIT)
    assert tests == {
        "test_sysprocattr::test_field_parity[notes]": {"outcome": "passed", "message": ""},
        "test_sysprocattr::test_field_parity[cgroup-time]": {
            "outcome": "skipped",
            "message": "the kernel lacks time namespaces (/proc/self/ns/time)",
        },
        "test_sysprocattr::test_field_parity[ptrace]": {
            "outcome": "failed",
            "message": "AssertionError: go and py differ",
        },
        "test_notes_paths::test_shell_exits_zero": {
            "outcome": "skipped",
            "message": "needs euid 0 on the host (CI runs as root)",
        },
    }


def test_parity_json_becomes_go_and_python_facts():
    data = {
        "launchers": [{"name": "go"}, {"name": "py"}],
        "probes": [
            {"name": "net", "match": True, "differs": {},
             "launchers": {"go": {"facts": {"links": "lo=DOWN"}}, "py": {"facts": {"links": "lo=DOWN"}}}},
            {"name": "id", "match": False, "differs": {"py": ["uid"]},
             "launchers": {"go": {"facts": {"uid": "65534"}}, "py": {"facts": {"uid": "0"}}}},
        ],
    }  # fmt: skip
    probes = kr.parity_probes(json.dumps(data))
    assert probes["net"] == {"match": True, "differs": [], "go": {"links": "lo=DOWN"}, "py": {"links": "lo=DOWN"}}
    assert probes["id"]["differs"] == ["uid"] and probes["id"]["py"] == {"uid": "0"}


def _kernel(release, time_ns="own", *, tests=None, features=None, match=True, arch="amd64"):
    facts = {"time": time_ns, "user": "own"}
    return {
        "arch": arch, "asked": ".".join(release.split(".")[:2]), "package": f"linux-image-{release}",
        "release": release, "error": None,
        "seconds": 300.0, "features": features or {"time_ns": True, "pidfd_open": True},
        "probes": {"namespaces": {"match": match, "differs": [] if match else ["time"], "go": facts,
                                  "py": facts if match else {**facts, "time": "host's"}}},
        "tests": tests or {"test_sysprocattr::test_field_parity[notes]": {"outcome": "passed", "message": ""}},
    }  # fmt: skip


def test_a_kernel_that_changes_both_alike_is_a_finding_not_a_failure():
    old = _kernel(
        "5.4.0-1-amd64",
        time_ns="-",
        features={"time_ns": False, "pidfd_open": True},
        tests={"test_sysprocattr::test_field_parity[cgroup-time]": {
            "outcome": "skipped", "message": "the kernel lacks time namespaces (/proc/self/ns/time)"}},
    )  # fmt: skip
    new = _kernel("6.12.117+deb13-amd64")
    kernels = [old, new]
    assert kr.reference(kernels) is new
    assert kr.failures(kernels) == []
    wheres = [(f["kernel"], f["where"]) for f in kr.findings(kernels)]
    assert wheres == [
        ("5.4.0-1-amd64", "feature time_ns"),
        ("5.4.0-1-amd64", "test_sysprocattr::test_field_parity[cgroup-time]"),
        ("5.4.0-1-amd64", "namespaces: time"),
    ]
    cells = dict(kr.grid(kernels))
    assert cells["namespaces"] == [("Go = Python; the kernel changes time", "finding"), ("Go = Python", "ok")]
    assert cells["test_sysprocattr::test_field_parity[cgroup-time]"][0][1] == "finding"
    assert cells["test_sysprocattr::test_field_parity[cgroup-time]"][1] == ("-", "none")


def test_go_and_python_disagreeing_is_a_failure_everywhere_it_shows():
    kernels = [_kernel("5.10.0-46-amd64", match=False), _kernel("6.12.117+deb13-amd64")]
    assert kr.failures(kernels) == ["5.10.0-46-amd64: probe namespaces: Go and Python differ in time"]
    assert dict(kr.grid(kernels))["namespaces"][0] == ("Go ≠ Python: time", "bad")
    assert "✗ Go ≠ Python: time" in kr.markdown(kernels)
    assert '<td class="bad">✗ Go ≠ Python: time</td>' in kr.html_page(kernels)
    assert json.loads(kr.json_report(kernels))["failures"] == kr.failures(kernels)


def test_a_kernel_without_a_trusted_result_is_a_failure():
    bad = {"asked": "6.1", "package": "linux-image-6.1.0-50-amd64", "release": "", "seconds": 12.0,
           "error": "the guest never reached the command (see the console log)",
           "features": {}, "probes": {}, "tests": {}}  # fmt: skip
    kernels = [bad, _kernel("6.12.117+deb13-amd64")]
    assert kr.failures(kernels) == ["6.1: no result: the guest never reached the command (see the console log)"]
    assert dict(kr.grid(kernels))["namespaces"][0] == ("no result", "unverified")  # ? not verified, never ✓
    v = kr.make_verdict(kernels)
    assert (v["state"], v["exit"]) == ("not verified", 2) and v["not_verified"][0]["where"] == "6.1"
    assert "| 6.1 | `linux-image-6.1.0-50-amd64` | - | 12 s | the guest never reached" in kr.markdown(kernels)


def test_guest_command_runs_checks_parity_and_the_chosen_tests():
    text = kernelvm.guest_command("/w/.venv/bin/python", kernelvm.GUEST_TESTS)
    assert "scripts/parity.py --launchers go,py --out" in text
    assert "-m pytest -n 0" in text and "--junitxml=" in text
    assert "tests/test_sysprocattr.py tests/test_notes_paths.py" in text
    proc = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_collect_reads_what_the_guest_left(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "features.json").write_text('{"time_ns": true}')
    parity = {"launchers": [{"name": "go"}, {"name": "py"}], "probes": []}
    (out / "parity.json").write_text(json.dumps(parity))
    (out / "pytest.xml").write_text(JUNIT)
    kernel = Kernel("linux-image-5.10.0-46-amd64", tmp_path)
    record = kr.collect("5.10", kernel, Run("5.10.0-46-amd64", 0, 290.0, ""), tmp_path)
    assert record["error"] is None and record["features"] == {"time_ns": True} and len(record["tests"]) == 4
    (out / "pytest.xml").unlink()
    record = kr.collect("5.10", kernel, Run("5.10.0-46-amd64", 0, 290.0, ""), tmp_path)
    assert record["error"].startswith("the guest's reports are missing or unreadable")
    untrusted = Run("6.18.44-fc-v657", 0, 1.0, "", error="the guest ran 6.18.44-fc-v657, not 5.10.0-46-amd64")
    assert kr.collect("5.10", kernel, untrusted, tmp_path)["tests"] == {}


def test_bad_input_is_one_line_and_status_2(tmp_path):
    script = str(ROOT / "scripts" / "kernels.py")
    for extra in (["--kernels", ","], ["--kernels", " "], ["--arch", "sparc64"], ["--arch", "x86_64"]):
        if extra[1] == ",":  # one as a real process; the others in this process (tests/support/inprocess.py)
            proc = subprocess.run([sys.executable, script, *extra, "--cache", str(tmp_path)], capture_output=True,
                                  text=True)  # fmt: skip
        else:
            proc = run_script("kernels", *extra, "--cache", str(tmp_path))
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("kernels: "), proc.stderr


def test_architectures_of_one_kernel_show_side_by_side():
    kernels = [_kernel("6.12.117+deb13-arm64", arch="arm64"), _kernel("6.12.117+deb13-amd64"),
               _kernel("6.1.0-50-arm64", time_ns="-", arch="arm64")]  # fmt: skip
    # Each architecture is compared with its own newest kernel: arm64's 6.1 against arm64's 6.12.
    assert kr.references(kernels) == {"arm64": "6.12.117+deb13-arm64", "amd64": "6.12.117+deb13-amd64"}
    assert kr.reference(kernels, "amd64")["release"] == "6.12.117+deb13-amd64"
    assert [(f["kernel"], f["where"]) for f in kr.findings(kernels)] == [("6.1.0-50-arm64", "namespaces: time")]
    md = kr.markdown(kernels)
    assert "| architecture | asked | kernel |" in md
    assert "| arm64 | 6.12 | `6.12.117+deb13-arm64` | - |" in md and "| amd64 | 6.12 | `6.12.117+deb13-amd64` |" in md
    ran = {**kernels[1], "ran": "2026-12-02 06:07:35 UTC, e47b9e0"}  # when and where each record was made
    assert "| `6.12.117+deb13-amd64` | 2026-12-02 06:07:35 UTC, e47b9e0 | 300 s |" in kr.markdown([ran])
    assert "| probe | arm64 6.12.117+deb13-arm64 | amd64 6.12.117+deb13-amd64 | arm64 6.1.0-50-arm64 |" in md
    page = kr.html_page(kernels)
    assert '<td data-label="architecture">arm64</td>' in page and "<th>amd64 6.12.117+deb13-amd64</th>" in page
    assert json.loads(kr.json_report(kernels))["references"]["arm64"] == "6.12.117+deb13-arm64"


def test_records_of_earlier_runs_join_keyed_by_architecture_and_kernel(tmp_path):
    amd = _kernel("6.12.117+deb13-amd64")
    old_arm = {**_kernel("6.12.107+deb13-arm64", arch="arm64"), "asked": "6.12"}
    other = _kernel("5.10.0-46-amd64")
    for record in (amd, old_arm, other):
        kr.store(tmp_path, record)
    assert (tmp_path / "6.12.117+deb13-amd64" / "record.json").exists()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "record.json").write_text("{")
    assert sorted(r["release"] for r in kr.stored(tmp_path)) == sorted(r["release"] for r in (amd, old_arm, other))
    new_arm = {**_kernel("6.12.117+deb13-arm64", arch="arm64"), "asked": "6.12"}
    shown = kr.combine(kr.stored(tmp_path), [new_arm])
    # arm64's 6.12 replaces arm64's older 6.12; amd64's 6.12 (same series, other architecture) stays beside it.
    assert [(kr.arch_of(r), r["release"]) for r in shown] == [
        ("amd64", "5.10.0-46-amd64"), ("amd64", "6.12.117+deb13-amd64"), ("arm64", "6.12.117+deb13-arm64"),
    ]  # fmt: skip
    legacy = {k: v for k, v in other.items() if k != "arch"}  # a record from before ARCH: amd64's
    assert kr.combine([legacy], [other]) == [other]
    failed = {"arch": "arm64", "asked": "6.1", "package": "", "release": "", "error": "no kernel", "seconds": 0.0,
              "features": {}, "probes": {}, "tests": {}}  # fmt: skip
    assert kr.record_dir(tmp_path, failed) == tmp_path / "6.1-arm64"
