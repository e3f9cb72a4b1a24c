"""The translation side by side, for make docs: reports/translation.{html,md}.

Two views, both read from the sources when they are made:

- reference_go/notes/main.go beside port/notes.py, line by line: lines are
  paired by their identifiers (case and underscores ignored), the rest by
  similarity.
- Go's forkAndExecInChild1 (from the toolchain's src/syscall/exec_linux.go)
  beside the port's fork_and_exec_in_child1, step by step. STEPS pairs each
  numbered heading of the port with the Go block(s) it translates, found by
  their heading comments; each pair carries the syscalls that block made under
  strace (one configuration that exercises most steps, run by both launchers)
  and the tests that prove it (the SysProcAttr table's configurations).

problems() says where the pairing no longer fits the sources; the tests call it.

Also README.md's SysProcAttr table (sysprocattr_table): one row per field of
Go's syscall.SysProcAttr (read from the toolchain's syscall/exec_linux.go), its
Python name in port/sysprocattr.py, what it becomes (the field's comment there)
and the tests that prove it (tests/support/configs.py and EXTRA_TESTS). A Go
field with no Python counterpart is an error.
"""

import ast
import datetime
import difflib
import re
import shutil
import tempfile
from pathlib import Path

from tests.support import verdict
from tests.support.configs import CONFIGS
from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY
from tests.support.paths import ROOT
from tests.support.report import run_metadata, templates
from tests.support.strace import parse, strace

GO_NOTES, PY_NOTES = ROOT / "reference_go/notes/main.go", ROOT / "port/notes.py"
PY_CHILD = ROOT / "port/exec_linux.py"
GO_CHILD_START, GO_CHILD_END = "// Fork succeeded, now in child.", "childerror:"

# The port's step heading (its start) -> the Go blocks it translates, each found by
# the regex of its first line, in order after the previous one; the SysProcAttr
# fields whose configurations prove it, or tests named directly; and the calls
# (strace names, with a regex on the arguments where needed) the step makes.
STEPS = [
    ("1. Enable", [r'// Enable the "keep capabilities" flag'], ["ambient_caps"], [], r"prctl\(PR_SET_KEEPCAPS"),
    ("2. Wait for User ID", [r"// Wait for User ID/Group ID mappings"], ["uid_mappings", "gid_mappings"], [],
     r"read\("),
    ("3. Session ID", [r"// Session ID"], ["setsid"], [], r"setsid\("),
    ("4. Set process group", [r"// Set process group"], ["setpgid", "pgid"], [], r"setpgid\("),
    ("5. Place the process group", [r"^\tif sys\.Foreground \{"], ["foreground"], [], r"ioctl\(\d+, TIOCSPGRP"),
    ("6. Restore the signal", [r"// Restore the signal mask"], [], ["tests/test_inheritance.py"],
     r"rt_sigaction\(|rt_sigprocmask\("),
    ("7. Unshare", [r"// Unshare"], ["unshareflags"], [], r"unshare\(|mount\(|write\(\d+</proc/"),
    ("8. Chroot", [r"// Chroot"], ["chroot"], [], r"chroot\("),
    ("9. User and groups", [r"// User and groups"], ["credential"], [], r"setgroups\(|setgid\(|setuid\("),
    ("10. Ambient", [r"^\tif len\(sys\.AmbientCaps\) != 0 \{"], ["ambient_caps"], [],
     r"capget\(|capset\(|prctl\(PR_CAP_AMBIENT"),
    ("11. Chdir", [r"// Chdir"], [], ["tests/test_exec.py", "tests/test_launcher_cli.py"], r"chdir\("),
    ("12. Parent death signal", [r"// Parent death signal"], ["pdeathsig"], ["tests/test_pdeathsig.py"],
     r"prctl\(PR_SET_PDEATHSIG|getppid\(|kill\("),
    ("13. Pass 1", [r"// Pass 1"], [], ["tests/test_inheritance.py"], r"dup2?\(|dup3\("),
    ("13. Pass 2", [r"// Pass 2", r"// By convention, we don't close-on-exec"], [], ["tests/test_inheritance.py"],
     r"dup3?\(|dup2\(|fcntl\(\d+, F_SETFD|ioctl\(\d+, FIONCLEX|close\("),
    ("14. Detach fd 0", [r"// Detach fd 0 from tty", r"// Set the controlling TTY"], ["noctty", "setctty", "ctty"],
     [], r"ioctl\(\d+, (TIOCNOTTY|TIOCSCTTY)"),
    ("15. Restore RLIMIT_NOFILE", [r"// Restore original rlimit"], [], ["tests/test_inheritance.py"],
     r"prlimit64\("),
    ("16. Enable tracing", [r"// Enable tracing"], ["ptrace"], [], r"ptrace\("),
    ("17. Time to exec", [r"// Time to exec"], [], ["tests/test_notes_paths.py"], r"execve\("),
]  # fmt: skip
# One start that runs most steps (those that need a tty or stop the child are left out).
TRACE_OPTIONS = ("--clone", "user,uts,pid", "--uid-map", "0:0:1", "--gid-map", "0:0:1", "--setgroups", "allow",
                 "--setsid", "--unshare", "ns", "--chroot", "/", "--credential", "0:0:", "--ambient-caps", "net_raw",
                 "--dir", "/", "--pdeathsig", "TERM", "--", "/bin/true")  # fmt: skip
TRACED = ",".join(
    (
        "clone,clone3,prctl,read,setsid,setpgid,ioctl,rt_sigaction,rt_sigprocmask,unshare,mount,write,chroot",
        "setgroups,setgid,setuid,capget,capset,chdir,getppid,kill,dup2,dup3,fcntl,prlimit64,ptrace,execve",
    )
)


def _ident_key(line: str) -> str:
    """A line's identifiers, lowercased, without underscores and numbers: Go and Python spell alike."""
    code = line.strip().removeprefix("//").removeprefix("#").strip()
    return "".join(re.findall(r"[A-Za-z]+", code)).lower()


def _alike(go_key: str, py_line: str) -> float:
    """How alike a Go line is to a Python line, with or without the Python line's trailing comment."""
    code = py_line.split("  # ", 1)[0]
    return max(difflib.SequenceMatcher(None, go_key, _ident_key(x)).ratio() for x in (py_line, code))


def notes_rows(go_text: str | None = None, py_text: str | None = None) -> list[dict]:
    """reference_go/notes/main.go beside port/notes.py: rows of {go, go_no, py, py_no, paired}."""
    go = (go_text or GO_NOTES.read_text()).splitlines()
    py = (py_text or PY_NOTES.read_text()).splitlines()
    gk, pk = [_ident_key(x) for x in go], [_ident_key(x) for x in py]
    # Lines with no identifier (blank, braces) must not anchor the alignment.
    gk = [k or f"\0go{i}" for i, k in enumerate(gk)]
    pk = [k or f"\0py{j}" for j, k in enumerate(pk)]
    rows = []

    def row(i: int | None, j: int | None, paired: bool) -> None:
        rows.append({"go": go[i] if i is not None else "", "go_no": None if i is None else i + 1,
                     "py": py[j] if j is not None else "", "py_no": None if j is None else j + 1,
                     "paired": paired})  # fmt: skip

    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, gk, pk, autojunk=False).get_opcodes():
        if op == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                row(i, j, True)
            continue
        # Pair the rest in order when they are alike enough; the others stand alone.
        j = j1
        for i in range(i1, i2):
            best = max(range(j, j2), key=lambda k: _alike(gk[i], py[k]), default=None)
            if not gk[i].startswith("\0") and best is not None and _alike(gk[i], py[best]) >= 0.6:
                for k in range(j, best):
                    row(None, k, False)
                row(i, best, True)
                j = best + 1
            else:
                row(i, None, False)
        for k in range(j, j2):
            row(None, k, False)
    # A blank line alone on each side is one blank row.
    merged: list[dict] = []
    for r in rows:
        last = merged[-1] if merged else None
        if (last and not last["paired"] and last["py_no"] is None and r["go_no"] is None and not r["paired"]
                and not last["go"].strip() and not r["py"].strip()):  # fmt: skip
            last.update(py=r["py"], py_no=r["py_no"])
        else:
            merged.append(r)
    return merged


def go_main_statements(go_text: str | None = None) -> list[int]:
    """Line numbers of main()'s statements in the Go notes (what must have a Python counterpart)."""
    lines = (go_text or GO_NOTES.read_text()).splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("func main()"))
    return [i + 1 for i in range(start + 1, len(lines)) if lines[i].strip() not in ("", "}", "})")]


def go_child(goroot: Path) -> list[str]:
    """forkAndExecInChild1 after the clone, up to childerror, as lines."""
    source = (goroot / "src/syscall/exec_linux.go").read_text()
    body = source.split("\nfunc forkAndExecInChild1(", 1)[1]
    after = body.split(GO_CHILD_START, 1)[1]
    return after.split("\n" + GO_CHILD_END, 1)[0].splitlines()


def go_step_blocks(goroot: Path) -> tuple[list[list[str]], list[str]]:
    """Go's text for each pair of STEPS, and any anchor not found (in order)."""
    lines = go_child(goroot)
    starts, missing, at = [], [], 0
    for _, anchors, *_ in STEPS:
        for anchor in anchors:
            found = next((i for i in range(at, len(lines)) if re.search(anchor, lines[i])), None)
            if found is None:
                missing.append(anchor)
                continue
            starts.append(found)
            at = found + 1
    blocks, k = [], 0
    bounds = [*starts, len(lines)]
    for _, anchors, *_ in STEPS:
        text = []
        for _ in anchors:
            if k < len(starts):
                text += lines[bounds[k] : bounds[k + 1]]
            k += 1
        blocks.append(_dedent(text))
    return blocks, missing


def go_headings(goroot: Path) -> list[str]:
    """The first line of every one-tab comment paragraph in the child: each must start a paired block."""
    lines = go_child(goroot)
    return [x for i, x in enumerate(lines) if x.startswith("\t// ") and (i == 0 or not lines[i - 1].strip())]


def py_step_blocks() -> tuple[list[list[str]], list[str]]:
    """The port's text for each pair of STEPS, and any heading not found."""
    source = PY_CHILD.read_text().split("def fork_and_exec_in_child1(self)", 1)[1]
    source = source.split("        except BaseException", 1)[0]
    lines = source.splitlines()
    heads = [i for i, x in enumerate(lines) if re.match(r"\s+# \d+\. ", x)]
    blocks, missing = [], []
    for heading, *_ in STEPS:
        i = next((h for h in heads if lines[h].strip().startswith(f"# {heading}")), None)
        if i is None:
            missing.append(heading)
            blocks.append([])
            continue
        end = next((h for h in heads if h > i), len(lines))
        blocks.append(_dedent(lines[i:end]))
    return blocks, missing


def py_headings() -> list[str]:
    source = PY_CHILD.read_text().split("def fork_and_exec_in_child1(self)", 1)[1].split("def ", 1)[0]
    return [x.strip()[2:] for x in source.splitlines() if re.match(r"\s+# \d+\. ", x)]


def _dedent(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    tabs = [x.expandtabs(4) for x in lines]
    indent = min((len(x) - len(x.lstrip()) for x in tabs if x.strip()), default=0)
    return [x[indent:] for x in tabs]


def problems(goroot: Path) -> list[str]:
    """Where STEPS or the notes pairing no longer fit the sources; empty when current."""
    out = []
    _, go_missing = go_step_blocks(goroot)
    out += [f"Go's forkAndExecInChild1 has no block starting {a!r} (in this order)" for a in go_missing]
    anchors = [a for _, anchors, *_ in STEPS for a in anchors]
    for heading in go_headings(goroot):
        if not any(re.search(a, heading) for a in anchors):
            out.append(f"Go's step {heading.strip()!r} is paired with no step of the port")
    _, py_missing = py_step_blocks()
    out += [f"port/exec_linux.py has no step heading {h!r}" for h in py_missing]
    for heading in py_headings():
        if not any(heading.startswith(h) for h, *_ in STEPS):
            out.append(f"the port's step {heading!r} is paired with no Go block")
    paired = {r["go_no"] for r in notes_rows() if r["paired"]}
    lines = GO_NOTES.read_text().splitlines()
    out += [f"main.go:{n} {lines[n - 1].strip()!r} has no Python counterpart in port/notes.py"
            for n in go_main_statements() if n not in paired]  # fmt: skip
    for *_, tests, _ in STEPS:
        for t in tests:
            if not (ROOT / t).exists():
                out.append(f"STEPS names {t}, which does not exist")
    return out


def proving_tests() -> list[list[str]]:
    """For each pair, the configurations (tests/support/configs.py) and test files that prove it."""
    by_field: dict[str, list[str]] = {}
    for config in CONFIGS:
        for f in config.fields:
            by_field.setdefault(f, []).append(config.name)
    out = []
    for _, _, fields, tests, _ in STEPS:
        names = [f"config {n}" for f in fields for n in by_field.get(f, [])]
        out.append(list(dict.fromkeys(names + tests)))
    return out


def child_calls(argv: list[str]) -> list[str] | None:
    """The calls of the started child, from its birth to its execve, as strace shows them; None without strace."""
    if shutil.which("strace") is None:
        return None
    with tempfile.TemporaryDirectory(prefix="nsport-docs-") as tmp:
        log = Path(tmp) / "child.strace"
        strace(argv, log, TRACED, stdin=b"")
        calls = parse(log.read_text())
    # The child is the process that executes the command (Go's pidfd check, and plumbum's
    # uname, make others).
    path = f'"{argv[-1]}"'
    child = next((c["pid"] for c in calls if c["name"] == "execve" and c["args"].startswith(path + ",")), None)
    out = []
    for c in calls:
        if c["pid"] != child:
            continue
        out.append(f"{c['name']}({_short(c)})")
        if c["name"] == "execve":
            break
    return out


def _short(c: dict) -> str:
    if c["name"] in ("capget", "capset"):
        return "…"
    if c["name"] == "rt_sigaction":  # one per signal: show what they set, so that they fold into ×N
        return "…, " + next((h for h in ("SIG_DFL", "SIG_IGN") if h in c["args"]), "a handler")
    args = re.sub(r"<[^>]*>", "", c["args"])
    return args if len(args) <= 48 else args[:47] + "…"


def step_calls(calls: list[str] | None) -> list[list[str]]:
    """Assign each call to the first step, at or after the current one, whose pattern it fits."""
    out: list[list[str]] = [[] for _ in STEPS]
    if calls is None:
        return out
    at = 0
    for call in calls:
        step = next((k for k in range(at, len(STEPS)) if re.match(STEPS[k][4], call)), None)
        if step is None:
            continue
        at = step
        if out[step] and _base(out[step][-1]) == call:
            last = out[step][-1]
            n = int(last.rsplit(" ×", 1)[1]) + 1 if " ×" in last else 2
            out[step][-1] = f"{call} ×{n}"
        else:
            out[step].append(call)
    return out


def _base(summary: str) -> str:
    return summary.rsplit(" ×", 1)[0]


def build(goroot: Path) -> dict:
    """Everything the two reports show."""
    go_blocks, _ = go_step_blocks(goroot)
    py_blocks, _ = py_step_blocks()
    options = list(TRACE_OPTIONS)
    go_calls = step_calls(child_calls([*LAUNCHER_GO.argv, *options]))
    py_calls = step_calls(child_calls([*LAUNCHER_PY.argv, "--strategy", "raw-clone", *options]))
    tests = proving_tests()
    headings = [block[0].removeprefix("# ") if block else step[0] for block, step in zip(py_blocks, STEPS, strict=True)]
    steps = [
        {"heading": headings[k], "go": go_blocks[k], "py": py_blocks[k], "go_calls": go_calls[k],
         "py_calls": py_calls[k], "tests": tests[k]}
        for k in range(len(STEPS))
    ]  # fmt: skip
    doc = {
        "goroot": str(goroot),
        "notes": notes_rows(),
        "steps": steps,
        "traced": shutil.which("strace") is not None,
        "options": " ".join(TRACE_OPTIONS),
        "problems": problems(goroot),
    }
    doc["verdict"] = make_verdict(doc)
    return doc


def make_verdict(doc: dict, meta: dict | None = None) -> dict:
    """The pairing is current (differs where it is not); each step's syscalls are not verified without strace."""
    same = sum(bool(s["go_calls"]) and [c.split("(")[0] for c in s["go_calls"]] == [c.split("(")[0] for c in
               s["py_calls"]] for s in doc["steps"])  # fmt: skip
    paired = sum(r["paired"] for r in doc["notes"])
    summary = (f"{len(doc['steps'])} steps of forkAndExecInChild1 paired with the port's, {paired} lines of main.go "
               f"with their Python; {len(doc['problems'])} pairing problems")  # fmt: skip
    not_verified = []
    if doc["traced"]:
        summary += f"; under strace {same} steps make the same calls as Go's in kind and order"
    else:
        not_verified.append(
            {"where": "each step's syscalls", "reason": "strace not installed (apt-get install strace)"}
        )
        summary += "; each step's syscalls not verified (strace not installed)"
    counts = {"steps": len(doc["steps"]), "paired lines": paired, "problems": len(doc["problems"]),
              "steps with the same calls": same if doc["traced"] else None}  # fmt: skip
    state = verdict.DIFFERS if doc["problems"] else verdict.NOT_VERIFIED if not_verified else verdict.MATCH
    return verdict.make(state, summary, counts, meta or {"date": _now()}, differences=doc["problems"],
                        not_verified=not_verified)  # fmt: skip


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def markdown(doc: dict) -> str:
    head = templates().get_template("_verdict.md").render(verdict=doc["verdict"]).rstrip("\n")
    out = ["# The translation, side by side", "", head, "",
           "Made by `make docs` (scripts/gen_docs.py) from the sources.", "",
           "## reference_go/notes/main.go beside port/notes.py", "",
           "| # | Go | # | Python |", "|---|---|---|---|"]  # fmt: skip
    for r in doc["notes"]:
        cells = [str(r["go_no"] or ""), f"`{r['go'].strip()}`" if r["go"].strip() else "",
                 str(r["py_no"] or ""), f"`{r['py'].strip()}`" if r["py"].strip() else ""]  # fmt: skip
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += [
        "",
        "## forkAndExecInChild1 beside fork_and_exec_in_child1, step by step",
        "",
        f"Go from `{doc['goroot']}/src/syscall/exec_linux.go`. Syscalls: the child of each launcher under "
        f"strace with `{doc['options']}`" + ("" if doc["traced"] else " (strace not installed)") + ".",
    ]
    for s in doc["steps"]:
        out += ["", f"### {s['heading']}", "", "```go", *s["go"], "```", "", "```python", *s["py"], "```", "",
                f"- Go's syscalls: {', '.join(f'`{c}`' for c in s['go_calls']) or 'none in this run'}",
                f"- the port's syscalls: {', '.join(f'`{c}`' for c in s['py_calls']) or 'none in this run'}",
                f"- proven by: {', '.join(s['tests']) or 'nothing'}"]  # fmt: skip
    return "\n".join(out) + "\n"


def html(doc: dict) -> str:
    page = templates().get_template("translation.html.j2")
    return page.render(doc=doc, verdict=doc["verdict"], title="nsport: the translation, side by side")


def write(goroot: Path, out: Path) -> None:
    doc = build(goroot)
    doc["verdict"] = make_verdict(doc, run_metadata())
    out.mkdir(parents=True, exist_ok=True)
    (out / "translation.md").write_text(markdown(doc))
    (out / "translation.html").write_text(html(doc))


# --- README.md's SysProcAttr table ------------------------------------------------

README = ROOT / "README.md"
BEGIN, END = "<!-- sysprocattr table: make docs -->", "<!-- end of sysprocattr table -->"
# Tests outside tests/support/configs.py that prove a field.
EXTRA_TESTS = {"pdeathsig": ["tests/test_pdeathsig.py"]}


def go_fields(goroot: Path) -> list[str]:
    source = (goroot / "src/syscall/exec_linux.go").read_text()
    struct = source.split("type SysProcAttr struct {", 1)[1].split("\n}", 1)[0]
    return re.findall(r"^\t([A-Z]\w*)\s", struct, re.M)


def python_fields() -> dict[str, str]:
    """Field name -> its trailing comment, from port/sysprocattr.py."""
    path = ROOT / "port/sysprocattr.py"
    lines = path.read_text().splitlines()
    cls = next(n for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef) and n.name == "SysProcAttr")
    return {
        node.target.id: lines[node.lineno - 1].split("  # ", 1)[1]
        for node in cls.body
        if isinstance(node, ast.AnnAssign)
    }


def snake(go_name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", go_name.replace("FD", "Fd")).lower()


def sysprocattr_table(goroot: Path) -> str:
    py = python_fields()
    proven: dict[str, list[str]] = {}
    for config in CONFIGS:
        for f in config.fields:
            proven.setdefault(f, []).append(f"`{config.name}`")
    rows = ["| Go field | Python | becomes | proven by |", "|---|---|---|---|"]
    for name in go_fields(goroot):
        attr = snake(name)
        if attr not in py:
            raise SystemExit(f"docs: Go's SysProcAttr.{name} has no field {attr} in port/sysprocattr.py")
        tests = proven.get(attr, []) + [f"`{t}`" for t in EXTRA_TESTS.get(attr, [])]
        becomes = py[attr].replace("|", "\\|")
        rows.append(f"| `{name}` | `{attr}` | {becomes} | {', '.join(tests) or '**none**'} |")
    return "\n".join(rows)
