"""Every namespace configuration, as root and as an ordinary user, under Go and Python.

    cells = run(configurations(), PRIVILEGES)   # each: flags, privilege, go, py, match

A cell starts build/launcher-go and `python -m port.launcher` with
`--clone FLAGS -- sh -c PROBE`, non-interactively, and records whether the
launch succeeded, the error text if not (log time masked) and the probe's
facts. Go and Python must agree in every cell. Launches run in parallel:
each is a short-lived process with its own namespaces, nothing is shared.
"""

import functools
import itertools
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY
from tests.support.paths import PYTHON, ROOT
from tests.support.shell import transcript

SIX = ("uts", "ipc", "pid", "ns", "user", "net")  # the notes' flags, in the launcher's spelling
EXTRA = ("cgroup", "time")
NS_FILES = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")
# An ordinary user the suite drops to itself; the same command as root otherwise.
NOBODY = ("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups")
PRIVILEGES = {"root": (), "nobody": NOBODY}

PROBE = r"""for n in cgroup ipc mnt net pid time user uts; do echo "$n: $(readlink /proc/self/ns/$n)"; done
echo "shell pid: $$"
echo "ids: $(id -u):$(id -g):$(id -G | tr ' ' ,)"
echo "uid_map: $(tr -s ' ' < /proc/self/uid_map | sed 's/^ //' | paste -sd,)"
echo "hostname: $(hostname)"
"""


@functools.cache
def nobody_problem() -> str | None:
    """Why the Python launcher cannot run as nobody here (an interpreter under /root), or None."""
    proc = subprocess.run([*NOBODY, PYTHON, "-c", "import port.launcher"], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    if proc.returncode == 0:
        return None
    why = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"status {proc.returncode}"
    return f"{PYTHON} cannot run as nobody: {why}"


def configurations() -> list[tuple[str, ...]]:
    """The 64 subsets of the six flags, then cgroup and time alone and beside the six."""
    subsets = [c for n in range(len(SIX) + 1) for c in itertools.combinations(SIX, n)]
    return [*subsets, *((x,) for x in EXTRA), *((*SIX, x) for x in EXTRA)]


def argv(lang: str, flags: tuple[str, ...], privilege: str) -> list[str]:
    launcher = (LAUNCHER_GO if lang == "go" else LAUNCHER_PY).argv
    clone = ["--clone", ",".join(flags)] if flags else []
    return [*PRIVILEGES[privilege], *launcher, *clone, "--", "sh", "-c", PROBE]


def _host_ns() -> dict[str, str]:
    return {n: os.readlink(f"/proc/self/ns/{n}") for n in NS_FILES}


def facts(output: str, host_ns: dict[str, str]) -> dict[str, str]:
    """The probe's output with host-dependent numbers turned into relations."""
    seen = dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)
    out = {n: ("host's" if seen.get(n) == host_ns[n] else "own") if seen.get(n) else "unreadable" for n in NS_FILES}
    pid = seen.get("shell pid", "")
    out["$$"] = pid if pid in ("1", "2") else "host pid" if pid else ""
    out["ids"] = seen.get("ids", "")
    out["uid_map"] = seen.get("uid_map", "")
    out["hostname"] = "host's" if seen.get("hostname") == os.uname().nodename else seen.get("hostname", "")
    return out


def launch(lang: str, flags: tuple[str, ...], privilege: str, host_ns: dict[str, str]) -> dict:
    """One launch: {"launched", "status", "error", "facts"}."""
    try:
        proc = subprocess.run(argv(lang, flags, privilege), cwd=ROOT, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"launched": False, "status": None, "error": "timed out after 30 s", "facts": {}}
    launched = proc.returncode == 0
    return {
        "launched": launched,
        "status": proc.returncode,
        "error": transcript(proc.stderr).strip(),
        "facts": facts(proc.stdout, host_ns) if launched else {},
    }


def run(flag_sets: list[tuple[str, ...]], privileges: list[str], jobs: int | None = None) -> list[dict]:
    """Every (flags, privilege) cell under Go and Python, in parallel; cells in order."""
    host_ns = _host_ns()
    keys = [(flags, priv) for flags in flag_sets for priv in privileges]
    work = [(lang, flags, priv) for flags, priv in keys for lang in ("go", "py")]
    with ThreadPoolExecutor(max_workers=jobs or 2 * (os.cpu_count() or 2)) as pool:
        done = dict(zip(work, pool.map(lambda w: launch(*w, host_ns), work), strict=True))
    cells = []
    for flags, priv in keys:
        go, py = done["go", flags, priv], done["py", flags, priv]
        cells.append({"flags": list(flags), "privilege": priv, "go": go, "py": py, "match": go == py,
                      "differs": sorted(k for k in go if go[k] != py[k])})  # fmt: skip
    return cells


def short(outcome: dict) -> str:
    """What a grid cell says: the facts that matter, or the error without its prefix."""
    if not outcome["launched"]:
        error = re.sub(r"^YYYY/MM/DD hh:mm:ss ", "", outcome["error"].splitlines()[-1] if outcome["error"] else "")
        return f"status {outcome['status']}: {re.sub(r'^fork/exec [^:]*: ', '', error)}"
    f = outcome["facts"]
    own = [n for n in NS_FILES if f.get(n) == "own"]
    return f"$$={f['$$']} ids={f['ids'].split(':')[0]} own: {','.join(own) or 'none'}"
