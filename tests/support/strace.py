"""Run a command under strace -f and read its trace back as calls (make trace, make docs)."""

import re
import subprocess
from pathlib import Path

from tests.support.paths import ROOT


def strace(argv: list[str], log: Path, calls: str, stdin: bytes = b"exit\n") -> None:
    """Run argv under strace -f, tracing calls, with stdin; its trace goes to log."""
    cmd = ["strace", "-f", "-qq", "-ttt", "-y", "-s", "64", "-e", "signal=none", "-e", f"trace={calls}",
           "-o", str(log), *argv]  # fmt: skip
    subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, timeout=60)


LINE = re.compile(r"^(\d+) +([\d.]+) (.*)$")
CALL = re.compile(r"^(\w+)\((.*)\)\s+= (.*)$", re.S)


def parse(text: str) -> list[dict]:
    """strace -f -ttt lines -> [{pid, ts, name, args, ret}], unfinished calls joined with their resumption."""
    calls, pending = [], {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, ts, rest = int(m[1]), float(m[2]), m[3]
        if rest.endswith("<unfinished ...>"):
            pending[pid] = (ts, rest[: -len("<unfinished ...>")].rstrip())
            continue
        if rest.startswith("<... "):
            ts, head = pending.pop(pid, (ts, ""))
            rest = head + rest.split(" resumed>", 1)[1]
        if c := CALL.match(rest):
            calls.append({"pid": pid, "ts": ts, "name": c[1], "args": c[2], "ret": c[3].strip()})
        elif rest.startswith(("exit_group(", "execve(")):  # exit_group returns "= ?"
            name, _, args = rest.partition("(")
            calls.append({"pid": pid, "ts": ts, "name": name, "args": args.rsplit(")", 1)[0], "ret": "?"})
    return sorted(calls, key=lambda c: c["ts"])  # a call resumed late still starts when it started
