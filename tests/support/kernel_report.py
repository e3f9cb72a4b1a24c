"""`make kernels`' views: a kernel × probe and kernel × test grid, Go vs Python in each cell.

Made from one record per architecture and kernel (scripts/kernels.py gathers them from the
guests, stores each beside the guest's reports, and shows every stored one, so that runs
for amd64 and arm64 add up):

    {"arch": "amd64", "asked": "5.10", "package": ..., "release": "5.10.0-46-amd64", "error": None, "seconds": 412.0,
     "features": {"time_ns": True, ...},
     "probes": {probe: {"match": bool, "differs": [facts], "go": facts, "py": facts}},
     "tests": {test id: {"outcome": "passed" | "failed" | "skipped", "message": str}}}

A cell is a failure when Go and Python disagree (a probe's facts, or a test,
which compares the two itself). A kernel that changes what both do alike is a
finding, not a failure: a probe fact where Go on this kernel differs from Go on
the reference kernel (the newest one run of the same architecture), a test skipped because the kernel
lacks a feature, a feature the reference kernel has and this one lacks.
What could not be compared is not verified, never a match: a kernel without a
trusted result, a probe the guest's parity run could not verify, a test
skipped for another reason than a missing kernel feature.
"""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support import verdict
from tests.support.kernelvm import Kernel, Run, release, version_key
from tests.support.report import templates

LACKS = "the kernel lacks "


def junit_tests(xml_text: str) -> dict[str, dict]:
    """{test id: {"outcome", "message"}} from pytest's --junitxml output."""
    tests = {}
    for case in ET.fromstring(xml_text).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            if (node := case.find(tag)) is not None:
                outcome = "skipped" if tag == "skipped" else "failed"
                message = node.get("message", "")
                break
        tests[f"{module}::{case.get('name')}"] = {"outcome": outcome, "message": message.removeprefix("Skipped: ")}
    return tests


def parity_probes(parity_json: str) -> dict[str, dict]:
    """{probe: {"match", "differs", "go", "py"[, "not_verified"]}} from scripts/parity.py's parity.json (go,py).

    not_verified (present when the guest could not verify the probe): the reasons, one line each.
    """
    data = json.loads(parity_json)
    ref, other = (lc["name"] for lc in data["launchers"][:2])
    out = {}
    for p in data["probes"]:
        out[p["name"]] = {
            "match": p["match"],
            "differs": p["differs"].get(other, []),
            "go": p["launchers"][ref]["facts"],
            "py": p["launchers"][other]["facts"],
        }
        if unverified := p.get("not_verified", {}).get(other):
            out[p["name"]]["not_verified"] = list(dict.fromkeys(f"{e['fact']}: {e['reason']}" for e in unverified))
    return out


def arch_of(record: dict) -> str:
    return record.get("arch", "amd64")  # records from before make kernels had ARCH


def reference(kernels: list[dict], arch: str | None = None) -> dict | None:
    """The newest kernel (of arch, if given) that gave a result: what the others of its architecture are
    compared with."""
    done = [k for k in kernels if not k["error"] and arch in (None, arch_of(k))]
    return max(done, key=lambda k: version_key(k["release"])) if done else None


def references(kernels: list[dict]) -> dict[str, str]:
    """{architecture: its reference kernel's release}."""
    refs = {arch_of(k): reference(kernels, arch_of(k)) for k in kernels}
    return {arch: ref["release"] for arch, ref in refs.items() if ref}


def findings(kernels: list[dict]) -> list[dict]:
    """Where a kernel changes what Go and Python both do: {"kernel", "where", "what"}."""
    out = []
    for k in kernels:
        if k["error"]:
            continue
        ref = reference(kernels, arch_of(k))
        for feature, present in k["features"].items():
            if not present and ref["features"].get(feature, False):
                out.append(
                    {
                        "kernel": k["release"],
                        "where": f"feature {feature}",
                        "what": f"missing (present on {ref['release']})",
                    }
                )
        for test, seen in k["tests"].items():
            if seen["outcome"] == "skipped" and seen["message"].startswith(LACKS):
                out.append({"kernel": k["release"], "where": test, "what": f"skipped: {seen['message']}"})
        if k is not ref:
            out += _probe_findings(k, ref)
    return out


def _probe_findings(k: dict, ref: dict) -> list[dict]:
    """Facts where Go (agreeing with Python) on kernel k differs from Go on the reference kernel."""
    out = []
    for probe, seen in k["probes"].items():
        base = ref["probes"].get(probe)
        if not seen["match"] or base is None:
            continue
        for fact in dict.fromkeys([*seen["go"], *base["go"]]):
            here, there = seen["go"].get(fact), base["go"].get(fact)
            if here != there:
                what = f"Go and Python: {_short(here)} (on {ref['release']}: {_short(there)})"
                out.append({"kernel": k["release"], "where": f"{probe}: {fact}", "what": what})
    return out


def failures(kernels: list[dict]) -> list[str]:
    """Every disagreement between Go and Python, and every kernel without a trusted result."""
    out = []
    for k in kernels:
        name = k["release"] or k["asked"]
        if k["error"]:
            out.append(f"{name}: no result: {k['error']}")
            continue
        out += [f"{name}: probe {p}: Go and Python differ in {', '.join(s['differs'])}"
                for p, s in k["probes"].items() if s["differs"]]  # fmt: skip
        out += [f"{name}: {t} failed" for t, s in k["tests"].items() if s["outcome"] == "failed"]
    return out


def not_verified(kernels: list[dict]) -> list[dict]:
    """What could not be compared, {"where", "reason"}: a kernel without a result, a probe or a test not verified."""
    out = []
    for k in kernels:
        name = k["release"] or k["asked"]
        if k["error"]:
            out.append({"where": name, "reason": f"no result: {k['error']}"})
            continue
        out += [{"where": f"{name}: probe {p}", "reason": "; ".join(s["not_verified"])}
                for p, s in k["probes"].items() if s.get("not_verified") and not s["differs"]]  # fmt: skip
        skipped = [(t, s) for t, s in k["tests"].items() if s["outcome"] == "skipped"]
        out += [{"where": f"{name}: {t}", "reason": f"skipped: {s['message']}"}
                for t, s in skipped if not s["message"].startswith(LACKS)]  # fmt: skip
    return out


def make_verdict(kernels: list[dict], meta: dict | None = None) -> dict:
    """The run's verdict: every probe and test cell on every kernel, Go against Python."""
    cells = sum(1 if k["error"] else len(k["probes"]) + len(k["tests"]) for k in kernels)
    differ = [line for line in failures(kernels) if ": no result: " not in line]
    unverified = not_verified(kernels)
    done = [k for k in kernels if not k["error"]]
    summary = (f"Go and Python on {len(done)}/{len(kernels)} kernels: {len(differ)} differences, "
               f"{len(findings(kernels))} findings where a kernel changes what both do")  # fmt: skip
    if unverified:
        summary += f", {len(unverified)} not verified ({verdict.reasons(unverified)})"
    counts = {"kernels": len(kernels), "with a result": len(done), "cells": cells, "differs": len(differ),
              "not verified": len(unverified), "findings": len(findings(kernels))}  # fmt: skip
    state = verdict.decide(cells, len(differ), len(unverified))
    if not done:
        state = verdict.COULD_NOT_RUN
    return verdict.make(state, summary, counts, meta, differences=differ, not_verified=unverified)


def grid(kernels: list[dict]) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(row name, [(cell text, kind) per kernel])]; kind is ok, finding, unverified, bad or none."""
    found: dict[tuple[str, str], list[str]] = {}
    for f in findings(kernels):
        probe, _, fact = f["where"].partition(": ")
        found.setdefault((f["kernel"], probe), []).append(fact)
    rows: dict[str, list[tuple[str, str]]] = {}
    names = list(dict.fromkeys([p for k in kernels for p in k.get("probes", {})]))
    names += [f"{t}" for t in dict.fromkeys(t for k in kernels for t in k.get("tests", {}))]
    for name in names:
        cells = []
        for k in kernels:
            if k["error"]:
                cells.append(("no result", "unverified"))
            elif name in k["probes"]:
                seen = k["probes"][name]
                if seen["differs"] or (not seen["match"] and not seen.get("not_verified")):
                    cells.append((f"Go ≠ Python: {', '.join(seen['differs'])}", "bad"))
                elif seen.get("not_verified"):
                    cells.append((f"not verified: {'; '.join(seen['not_verified'])}", "unverified"))
                elif facts := found.get((k["release"], name)):
                    cells.append((f"Go = Python; the kernel changes {', '.join(facts)}", "finding"))
                else:
                    cells.append(("Go = Python", "ok"))
            elif name in k["tests"]:
                seen = k["tests"][name]
                if seen["outcome"] == "passed":
                    cells.append(("Go = Python", "ok"))
                elif seen["outcome"] == "skipped":
                    kind = "finding" if seen["message"].startswith(LACKS) else "unverified"
                    cells.append((f"skipped: {seen['message']}", kind))
                else:
                    cells.append((f"failed: {seen['message'][:80]}", "bad"))
            else:
                cells.append(("-", "none"))
        rows[name] = cells
    return list(rows.items())


def _short(value: object) -> str:
    text = "-" if value is None or value == "" else str(value).strip().replace("\n", " ⏎ ")
    return text if len(text) <= 60 else text[:57] + "..."


MARK = {"ok": "✓", "finding": "◆", "unverified": "?", "bad": "✗", "none": ""}
LEGEND = ("✓ Go = Python · ◆ Go = Python, and the kernel changes what both do (a finding) · ? not verified "
          "(no result from the kernel, a probe the guest could not verify, a test skipped; reason shown) · "
          "✗ Go ≠ Python")  # fmt: skip


def view(kernels: list[dict], meta: dict | None = None) -> dict:
    """What the templates (tests/support/templates/kernels.*) show."""
    rows = [{"name": name, "cells": [{"text": t, "kind": k, "mark": MARK[k]} for t, k in cells]}
            for name, cells in grid(kernels)]  # fmt: skip
    heads = [{**k, "arch": arch_of(k), "ran": k.get("ran"),
              "header": f"{arch_of(k)} {k['release'] or k['asked'] + ' (no result)'}",
              "parity": None if k["error"] else f"kernels/{k['release']}/out/parity.html"}
             for k in kernels]  # fmt: skip
    return {
        "verdict": make_verdict(kernels, meta),
        "legend": LEGEND,
        "meta": meta or {},
        "kernels": heads,
        "references": references(kernels),
        "probes": [r for r in rows if "::" not in r["name"]],
        "tests": [r for r in rows if "::" in r["name"]],
        "findings": findings(kernels),
        "failures": failures(kernels),
    }


def markdown(kernels: list[dict], meta: dict | None = None) -> str:
    v = view(kernels, meta)
    return templates().get_template("kernels.md").render(v=v, verdict=v["verdict"])


def html_page(kernels: list[dict], meta: dict | None = None) -> str:
    v = view(kernels, meta)
    return templates().get_template("kernels.html").render(v=v, verdict=v["verdict"],
                                                         title="Parity across kernels: Go vs Python")  # fmt: skip


def json_report(kernels: list[dict], meta: dict | None = None) -> str:
    data = {
        "verdict": make_verdict(kernels, meta),
        "meta": meta or {},
        "references": references(kernels),
        "kernels": kernels,
        "findings": findings(kernels),
        "failures": failures(kernels),
        "not_verified": not_verified(kernels),
    }
    return json.dumps(data, indent=2, default=str) + "\n"


def collect(asked: str, kernel: Kernel, run: Run, job: Path, arch: str = "amd64") -> dict:
    """One kernel's record, from what its guest left in job."""
    record = {"arch": arch, "asked": asked, "package": kernel.package, "release": run.release, "error": run.error,
              "seconds": round(run.seconds, 1), "features": {}, "probes": {}, "tests": {}}  # fmt: skip
    if run.error:
        return record
    out = job / "out"
    try:
        record["features"] = json.loads((out / "features.json").read_text())
        record["probes"] = parity_probes((out / "parity.json").read_text())
        record["tests"] = junit_tests((out / "pytest.xml").read_text())
    except (OSError, ValueError) as e:
        record["error"] = f"the guest's reports are missing or unreadable ({e}); see {job}/console.log"
    return record


# ---- the records of every run ------------------------------------------------------------------------

RECORD = "record.json"


def record_dir(kernels_dir: Path, record: dict) -> Path:
    """Where a record is kept: beside its guest's reports (kernels/RELEASE/; the release names the architecture)."""
    return kernels_dir / (
        release(record["package"]) if record.get("package") else f"{record['asked']}-{arch_of(record)}"
    )


def store(kernels_dir: Path, record: dict) -> Path:
    path = record_dir(kernels_dir, record) / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path


def stored(kernels_dir: Path) -> list[dict]:
    """Every record earlier runs left in kernels_dir (an unreadable one is left out)."""
    out = []
    for path in sorted(kernels_dir.glob(f"*/{RECORD}")):
        try:
            out.append(json.loads(path.read_text()))
        except ValueError:
            continue
    return out


def combine(old: list[dict], new: list[dict]) -> list[dict]:
    """old's records that new does not replace, and new's: one per (architecture, kernel asked) and per
    (architecture, package); in kernel order, the architectures of one kernel side by side."""
    taken = {(arch_of(r), key) for r in new for key in (("asked", r["asked"]), ("package", r.get("package")))}
    kept = [
        r for r in old if not {(arch_of(r), ("asked", r["asked"])), (arch_of(r), ("package", r.get("package")))} & taken
    ]
    return sorted([*kept, *new], key=lambda r: (version_key(r.get("package") or r["asked"]), arch_of(r)))
