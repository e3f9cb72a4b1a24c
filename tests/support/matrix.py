"""Every namespace configuration, as root and as an ordinary user, under Go and Python.

    cells = run(configurations(), PRIVILEGES)   # each: flags, privilege, go, py, match

A cell starts build/launcher-go and `python -m port.launcher` with
`--clone FLAGS -- sh -c PROBE`, non-interactively, and records whether the
launch succeeded, the error text if not (log time masked) and the probe's
facts. Go and Python must agree in every cell. Launches run in parallel:
each is a short-lived process with its own namespaces, nothing is shared.

A launch that could not be made (it timed out, setpriv could not drop to
nobody, an interpreter nobody cannot run) is not run, with the reason; its
cell is not verified, never a match. A launcher that refuses a configuration
(status and error) is measured: Go and Python must refuse alike.
"""

import functools
import itertools
import os
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY
from tests.support.paths import PYTHON, ROOT
from tests.support.probe import ns_lines
from tests.support.shell import transcript

SIX = ("uts", "ipc", "pid", "ns", "user", "net")  # the notes' flags, in the launcher's spelling
EXTRA = ("cgroup", "time")
NS_FILES = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")
# An ordinary user the suite drops to itself; the same command as root otherwise.
NOBODY = ("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups")
PRIVILEGES = {"root": (), "nobody": NOBODY}

PROBE = (
    ns_lines(NS_FILES)
    + r"""echo "shell pid: $$"
echo "ids: $(id -u):$(id -g):$(id -G | tr ' ' ,)"
echo "uid_map: $(tr -s ' ' < /proc/self/uid_map | sed 's/^ //' | paste -sd,)"
echo "hostname: $(hostname)"
"""
)


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


def not_run(reason: str) -> dict:
    """The outcome of a launch that could not be made."""
    return {"launched": False, "status": None, "error": "", "facts": {}, "not_run": reason}


def launch(lang: str, flags: tuple[str, ...], privilege: str, host_ns: dict[str, str]) -> dict:
    """One launch: {"launched", "status", "error", "facts", "not_run"} (not_run: None, or why it was not made)."""
    try:
        proc = subprocess.run(argv(lang, flags, privilege), cwd=ROOT, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30)  # fmt: skip
    except subprocess.TimeoutExpired:
        return not_run("timed out after 30 s")
    except OSError as e:
        return not_run(f"{e.filename or 'the launch'}: {e.strerror}")
    error = transcript(proc.stderr).strip()
    if privilege != "root" and error.startswith("setpriv: "):  # the drop to nobody failed, not the launcher
        return not_run(error.splitlines()[0])
    launched = proc.returncode == 0
    return {
        "launched": launched,
        "status": proc.returncode,
        "error": error,
        "facts": facts(proc.stdout, host_ns) if launched else {},
        "not_run": None,
    }


def cell_state(go: dict, py: dict) -> str:
    """runs (alike), refused (alike), differs, or not verified (a launch not made)."""
    if go.get("not_run") or py.get("not_run"):
        return "not verified"
    if go != py:
        return "differs"
    return "runs" if go["launched"] else "refused"


def run(flag_sets: list[tuple[str, ...]], privileges: list[str], jobs: int | None = None,
        skip: dict[str, str] | None = None, done: Callable[[], None] | None = None) -> list[dict]:  # fmt: skip
    """Every (flags, privilege) cell under Go and Python, in parallel; cells in order.

    skip: {privilege: why} for privileges that cannot be launched here (their
    cells are not run, with the reason); done: called after each launch.
    """
    skip = skip or {}
    host_ns = _host_ns()
    keys = [(flags, priv) for flags in flag_sets for priv in privileges]
    work = [(lang, flags, priv) for flags, priv in keys for lang in ("go", "py")]
    outcomes: dict[tuple, dict] = {}
    with ThreadPoolExecutor(max_workers=jobs or 2 * (os.cpu_count() or 2)) as pool:
        futures = {}
        for w in work:
            if w[2] in skip:
                outcomes[w] = not_run(skip[w[2]])
                if done:
                    done()
            else:
                futures[pool.submit(launch, *w, host_ns)] = w
        for future in as_completed(futures):
            outcomes[futures[future]] = future.result()
            if done:
                done()
    cells = []
    for flags, priv in keys:
        go, py = outcomes["go", flags, priv], outcomes["py", flags, priv]
        state = cell_state(go, py)
        reason = "; ".join(dict.fromkeys(o["not_run"] for o in (go, py) if o.get("not_run")))
        cells.append({"flags": list(flags), "privilege": priv, "go": go, "py": py, "state": state,
                      "match": state in ("runs", "refused"), "not_verified": reason or None,
                      "differs": sorted(k for k in go if go[k] != py.get(k))})  # fmt: skip
    return cells


def short(outcome: dict) -> str:
    """What a grid cell says: the facts that matter, or the error without its prefix."""
    if outcome.get("not_run"):
        return f"not run: {outcome['not_run']}"
    if not outcome["launched"]:
        error = re.sub(r"^YYYY/MM/DD hh:mm:ss ", "", outcome["error"].splitlines()[-1] if outcome["error"] else "")
        return f"status {outcome['status']}: {re.sub(r'^fork/exec [^:]*: ', '', error)}"
    f = outcome["facts"]
    own = [n for n in NS_FILES if f.get(n) == "own"]
    return f"$$={f.get('$$', '')} ids={f.get('ids', '').split(':')[0]} own: {','.join(own) or 'none'}"
