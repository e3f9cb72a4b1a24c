"""`make kernels`' views: a kernel × probe and kernel × test grid, Go vs Python in each cell.

Made from one record per kernel (scripts/kernels.py gathers them from the guests):

    {"asked": "5.10", "package": ..., "release": "5.10.0-46-amd64", "error": None, "seconds": 412.0,
     "features": {"time_ns": True, ...},
     "probes": {probe: {"match": bool, "differs": [facts], "go": facts, "py": facts}},
     "tests": {test id: {"outcome": "passed" | "failed" | "skipped", "message": str}}}

A cell is a failure when Go and Python disagree (a probe's facts, or a test,
which compares the two itself). A kernel that changes what both do alike is a
finding, not a failure: a probe fact where Go on this kernel differs from Go on
the reference kernel (the newest one run), a test skipped because the kernel
lacks a feature, a feature the reference kernel has and this one lacks.
"""

import html
import json
import xml.etree.ElementTree as ET

from tests.kernelvm import version_key

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
    """{probe: {"match", "differs", "go", "py"}} from scripts/parity.py's parity.json (launchers go,py)."""
    data = json.loads(parity_json)
    ref, other = (lc["name"] for lc in data["launchers"][:2])
    return {
        p["name"]: {
            "match": p["match"],
            "differs": p["differs"].get(other, []),
            "go": p["launchers"][ref]["facts"],
            "py": p["launchers"][other]["facts"],
        }
        for p in data["probes"]
    }


def reference(kernels: list[dict]) -> dict | None:
    """The newest kernel that gave a result: what the others are compared with."""
    done = [k for k in kernels if not k["error"]]
    return max(done, key=lambda k: version_key(k["release"])) if done else None


def findings(kernels: list[dict]) -> list[dict]:
    """Where a kernel changes what Go and Python both do: {"kernel", "where", "what"}."""
    ref = reference(kernels)
    out = []
    for k in kernels:
        if k["error"]:
            continue
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
                for p, s in k["probes"].items() if not s["match"]]  # fmt: skip
        out += [f"{name}: {t} failed" for t, s in k["tests"].items() if s["outcome"] == "failed"]
    return out


def grid(kernels: list[dict]) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(row name, [(cell text, kind) per kernel])]; kind is ok, finding, skip, bad or none."""
    found = {(f["kernel"], f["where"].split(":")[0]) for f in findings(kernels)}
    rows: dict[str, list[tuple[str, str]]] = {}
    names = list(dict.fromkeys([p for k in kernels for p in k.get("probes", {})]))
    names += [f"{t}" for t in dict.fromkeys(t for k in kernels for t in k.get("tests", {}))]
    for name in names:
        cells = []
        for k in kernels:
            if k["error"]:
                cells.append(("no result", "bad"))
            elif name in k["probes"]:
                seen = k["probes"][name]
                if not seen["match"]:
                    cells.append((f"Go ≠ Python: {', '.join(seen['differs'])}", "bad"))
                elif (k["release"], name) in found:
                    cells.append(("Go = Python, kernel differs", "finding"))
                else:
                    cells.append(("Go = Python", "ok"))
            elif name in k["tests"]:
                seen = k["tests"][name]
                if seen["outcome"] == "passed":
                    cells.append(("Go = Python", "ok"))
                elif seen["outcome"] == "skipped":
                    kind = "finding" if seen["message"].startswith(LACKS) else "skip"
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


def _header(k: dict) -> str:
    return k["release"] or f"{k['asked']} (no result)"


MARK = {"ok": "✓", "finding": "◆", "skip": "–", "bad": "✗", "none": ""}


def markdown(kernels: list[dict]) -> str:
    ref = reference(kernels)
    out = ["# Parity across kernels", ""]
    out += ["| asked | kernel | booted and ran in | result |", "|---|---|---|---|"]
    for k in kernels:
        result = k["error"] or "trusted: uname -r inside the guest matched"
        out.append(f"| {k['asked']} | `{k['release'] or k['package']}` | {k['seconds']:.0f} s | {result} |")
    out += [
        "",
        f"Reference for findings: **{ref['release'] if ref else 'none'}** (the newest kernel with a result).",
        "",
    ]
    out += [
        "✓ Go = Python · ◆ Go = Python, and the kernel changes what both do (a finding) · – skipped · ✗ failure",
        "",
    ]
    out += ["| probe / test | " + " | ".join(_header(k) for k in kernels) + " |", "|---" * (len(kernels) + 1) + "|"]
    for name, cells in grid(kernels):
        out.append(
            f"| {name} | " + " | ".join(f"{MARK[kind]} {text}".replace("|", "\\|") for text, kind in cells) + " |"
        )
    out += ["", "## Findings: the kernel changes what Go and Python both do", ""]
    out += [f"- **{f['kernel']}**, {f['where']}: {f['what']}" for f in findings(kernels)] or ["(none)"]
    out += ["", "## Failures: Go and Python differ, or a kernel gave no trusted result", ""]
    out += [f"- {line}" for line in failures(kernels)] or ["(none)"]
    return "\n".join(out) + "\n"


def html_page(kernels: list[dict]) -> str:
    esc = html.escape
    ref = reference(kernels)
    head = "".join(f"<th>{esc(h)}</th>" for h in ["probe / test", *map(_header, kernels)])
    body = []
    for name, cells in grid(kernels):
        tds = "".join(f'<td class="{kind}">{MARK[kind]} {esc(text)}</td>' for text, kind in cells)
        body.append(f"<tr><th>{esc(name)}</th>{tds}</tr>")
    runs = "".join(
        f"<tr><td>{esc(k['asked'])}</td><td><code>{esc(k['release'] or k['package'])}</code></td>"
        f"<td>{k['seconds']:.0f} s</td><td>{esc(k['error'] or 'trusted: uname -r inside matched')}</td></tr>"
        for k in kernels
    )
    found = "".join(
        f"<li><b>{esc(f['kernel'])}</b>, {esc(f['where'])}: {esc(f['what'])}</li>" for f in findings(kernels)
    )
    failed = "".join(f"<li>{esc(line)}</li>" for line in failures(kernels))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Parity across kernels</title><style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; vertical-align: top; text-align: left; }}
th {{ font-weight: 600; }} td.ok {{ background: #e8f6e8; }} td.finding {{ background: #fff3c4; }}
td.bad {{ background: #fdd; }} td.skip {{ background: #eee; color: #555; }}
</style></head><body>
<h1>Parity across kernels</h1>
<table><tr><th>asked</th><th>kernel</th><th>booted and ran in</th><th>result</th></tr>{runs}</table>
<p>Reference for findings: <b>{esc(ref["release"] if ref else "none")}</b> (the newest kernel with a result).
✓ Go = Python · ◆ Go = Python, and the kernel changes what both do (a finding) · – skipped · ✗ failure</p>
<table><tr>{head}</tr>
{chr(10).join(body)}
</table>
<h2>Findings: the kernel changes what Go and Python both do</h2>
<ul>{found or "<li>(none)</li>"}</ul>
<h2>Failures: Go and Python differ, or a kernel gave no trusted result</h2>
<ul>{failed or "<li>(none)</li>"}</ul>
</body></html>
"""


def json_report(kernels: list[dict]) -> str:
    ref = reference(kernels)
    data = {
        "reference": ref["release"] if ref else None,
        "kernels": kernels,
        "findings": findings(kernels),
        "failures": failures(kernels),
    }
    return json.dumps(data, indent=2, default=str) + "\n"
