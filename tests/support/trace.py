"""Trace how each launcher starts sh, and line the syscall sequences up (make trace).

Runs each launcher (tests/support/launchers.py) under `strace -f` with `exit` on
stdin, keeps the calls that make up a start (SHOWN), labels each process
(launcher, middle, sh) with the namespaces it ends up in, aligns every port
strategy with Go's sequence and writes reports/trace.{md,html,json}. Each
difference is explained in one line by WHY, data beside the code; one that
no rule explains is reported as such (scripts/trace.py then exits 1).

A strategy whose namespace calls differ from Go's by design (SUBREAPER and
RELAY unshare in a middle process) says so with the reason (EXPECTED_CALLS):
it "differs as expected", never "match: False". A launcher that could not be
traced (strace failed, no sh was started) is not verified, with the reason.
Times are strace's, from `runs` runs: shown as a median with its range only
from 5 runs on, and never part of the verdict.
"""

import difflib
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from tests.support import verdict
from tests.support.report import templates
from tests.support.strace import parse, strace

SHOWN = ("clone,clone3,fork,vfork,unshare,setns,execve,write,sethostname,mount,prctl,rt_sigaction,rt_sigprocmask,"
         "dup2,dup3,wait4,waitid,exit_group")  # fmt: skip
NAMESPACE_FLAGS = {"CLONE_NEWUSER": "user", "CLONE_NEWNS": "mnt", "CLONE_NEWUTS": "uts", "CLONE_NEWIPC": "ipc",
                   "CLONE_NEWNET": "net", "CLONE_NEWPID": "pid", "CLONE_NEWCGROUP": "cgroup",
                   "CLONE_NEWTIME": "time"}  # fmt: skip
FOR_CHILDREN = {"pid", "time"}  # unshare(2) moves only the caller's children into these
# Calls that make or enter namespaces, or write what a user namespace needs.
NAMESPACE_CALLS = re.compile(r"^(clone3?|unshare|setns|sethostname|mount)\b|^write\(/proc/")

# One line for each way a port's sequence may differ from Go's: (side, pattern, why).
# side is "go", "port" (any strategy) or a strategy's name; the pattern is matched
# against that side's "process: call". Counts (×N) are not part of the match, but the
# arguments that are the behaviour are: each rt_sigaction's signals and disposition
# (queries are not shown), each rt_sigprocmask's mask, the fds of dup2/dup3, clone's
# flags and the text written to the map files; and "sh: at execve" (the ignored signals
# and the mask sh starts with, replayed from the calls: SignalState) has no rule at all.
WHY = [
    ("go", r"^launcher: prctl\(PR_SET_VMA", "Go's runtime names its memory regions at start-up; not part of the start"),
    (
        "go",
        r"^launcher: rt_sigaction\(.*, handler\)$",
        "Go's runtime installs its signal handlers before main (runtime initsig)",
    ),
    (
        "port",
        r"^launcher: rt_sigaction\(SIGPIPE SIGXFSZ, SIG_IGN\)$",
        "CPython ignores SIGPIPE and SIGXFSZ at start-up; port.runtime.init then sets them as Go has them",
    ),
    # The launcher's own dispositions are the port's design (tests/test_launcher_signals.py compares what
    # they do); what sh inherits from them is compared on the "at execve" row, which no rule explains.
    ("port", r"^launcher: rt_sigaction", "port.runtime.init gives the launcher Go's dispositions, one call per signal"),
    (
        "go",
        r"^launcher: rt_sigprocmask",
        "Go's runtime sets each new thread's mask (minit) and blocks all signals around the clone (runtime_BeforeFork)",
    ),
    ("port", r"^launcher: rt_sigprocmask", "the port blocks every signal across the clone/fork, as runtime_BeforeFork"),
    (
        "go",
        r"^launcher: waitid\(P_PIDFD, WEXITED\|__WCLONE|^launcher: clone\(CLONE_VM\|CLONE_PIDFD\|CLONE_VFORK\)|"
        r"^probe: exit_group",
        "Go's os package checks once that pidfds work: a vfork child that exits at once",
    ),
    (
        "go",
        r"^launcher: waitid\(P_PIDFD, WEXITED\) → ECHILD",
        "Go's os package checks once that pidfds work (waitid on its own pidfd answers ECHILD)",
    ),
    (
        "go",
        r"^launcher: clone\(CLONE_PIDFD(\|CLONE_NEW\w+)+\|SIGCHLD\) → sh$",  # flags beyond these: unexplained
        "Go's os/exec always asks for a pidfd (CLONE_PIDFD) to wait "
        "on; the port opens none unless SysProcAttr.PidFD is set",
    ),
    ("go", r"^launcher: waitid\(P_PIDFD", "Go waits on the pidfd (waitid P_PIDFD); Python's os.waitpid is wait4"),
    ("port", r"^launcher: wait4\(sh\)", "Python's os.waitpid is wait4(2); Go waits on the pidfd with waitid"),
    (
        "raw-clone",
        r"^launcher: clone\((CLONE_NEW\w+\|)+SIGCHLD\) → sh$",  # which CLONE_NEW*: namespace_calls compares
        "RAW_CLONE makes Go's clone; CLONE_PIDFD only when SysProcAttr.PidFD asks, since Python waits by pid",
    ),
    (
        "port",
        r"^launcher: clone\(CLONE_CHILD_CLEARTID\|CLONE_CHILD_SETTID\|SIGCHLD\)",
        "os.fork: glibc's fork is a clone with no namespace flags; the namespaces come from unshare(2) after it",
    ),
    (
        "subreaper",
        r"^launcher: prctl\(PR_GET_CHILD_SUBREAPER",
        "SUBREAPER: the launcher notes whether it was a subreaper already, to restore it after the start",
    ),
    (
        "subreaper",
        r"^launcher: prctl\(PR_SET_CHILD_SUBREAPER, 1",
        "SUBREAPER: the launcher is a child subreaper for the start, so sh is re-parented to it",
    ),
    (
        "subreaper",
        r"^launcher: prctl\(PR_SET_CHILD_SUBREAPER, 0",
        "SUBREAPER: the start is over; the launcher is no longer a subreaper",
    ),
    ("port", r"^middle: unshare\(", "fork cannot carry Cloneflags: the middle process unshares them (one call)"),
    (
        "port",
        r"^middle: clone\(CLONE_CHILD_CLEARTID\|CLONE_CHILD_SETTID\|SIGCHLD\) → sh",
        "unshare(CLONE_NEWPID) moves only the next child: the second fork makes sh PID 1",
    ),
    ("subreaper", r"^middle: exit_group\(0\)", "SUBREAPER: the middle process exits once it has handed sh's pid over"),
    ("subreaper", r"^launcher: wait4\(middle\)", "SUBREAPER: the launcher reaps the middle process, adopting sh"),
    ("port", r"^middle: rt_sigprocmask", "the middle process restores the mask for its fork (os.fork, inside Python)"),
    (
        "relay",
        r"^middle: rt_sigaction\(\w+, SIG_DFL\)$",
        "RELAY: the relay resets the disposition of the signal that ended sh",
    ),
    ("relay", r"^middle: wait4\(sh\)", "RELAY: the middle process stays and waits for sh"),
    ("relay", r"^middle: exit_group", "RELAY: the middle process ends the way sh ended"),
    ("relay", r"^launcher: wait4\(middle\)", "RELAY: the launcher waits for the relay, which ends as sh did"),
    # Only resets to SIG_DFL are explained in sh: a signal ignored or caught there is a difference. What sh
    # starts with (ignored signals, mask) is the "sh: at execve" row, which no rule explains.
    (
        "go",
        r"^sh: rt_sigaction\(.*, SIG_DFL\)$",
        "Go's child resets the signals its runtime handles (runtime_AfterForkInChild)",
    ),
    (
        "port",
        r"^sh: rt_sigaction\(.*, SIG_DFL\)$",
        "the child resets every signal Go handles (port.runtime.reset_signals_for_child)",
    ),
    ("port", r"^sh: rt_sigprocmask\(SIG_SETMASK, ", "the child restores the launcher's mask at Go's step 6"),
]


# Strategies whose namespace calls differ from Go's by design, and why.
EXPECTED_CALLS = {
    "subreaper": "fork cannot carry Cloneflags: a middle process unshares them and forks sh into the new PID "
    "namespace (SUBREAPER: the launcher adopts sh)",
    "relay": "fork cannot carry Cloneflags: a middle process unshares them, forks sh into the new PID namespace "
    "and stays as its relay (RELAY)",
}
TIMED_FROM = 5  # runs: fewer give no time at all


def _flags(args: str) -> list[str]:
    m = re.search(r"flags=([\w|]+)", args)
    return m[1].split("|") if m else []


def _ns(flags: list[str]) -> set[str]:
    return {NAMESPACE_FLAGS[f] for f in flags if f in NAMESPACE_FLAGS}


def processes(calls: list[dict]) -> dict[int, dict]:
    """Every process (threads folded into their process): parent, label, namespaces it ends in."""
    root = calls[0]["pid"]
    procs = {root: {"pid": root, "parent": None, "own": set(), "children_ns": set(), "label": "launcher"}}
    thread_of = {}
    for c in calls:
        pid = thread_of.get(c["pid"], c["pid"])
        if c["name"] in ("clone", "clone3", "fork", "vfork") and c["ret"].split()[0].isdigit():
            child, flags = int(c["ret"].split()[0]), _flags(c["args"])
            if "CLONE_THREAD" in flags:
                thread_of[child] = pid
                continue
            parent = procs[pid]
            own = parent["own"] | _ns(flags) | parent["children_ns"]
            procs[child] = {"pid": child, "parent": pid, "own": own, "children_ns": set(), "label": "middle"}
        elif c["name"] == "unshare" and c["ret"] == "0":
            ns = _ns(c["args"].split("|"))
            procs[pid]["own"] |= ns - FOR_CHILDREN
            procs[pid]["children_ns"] |= ns & FOR_CHILDREN
        elif c["name"] == "execve" and c["ret"] == "0" and pid != root and re.match(r'"/(usr/)?bin/sh"', c["args"]):
            procs[pid]["label"] = "sh"
    for c in calls:  # a child whose only act is to exit: Go's pidfd check
        p = procs.get(c["pid"])
        if p and p["label"] == "middle" and all(d["name"] == "exit_group" for d in calls if d["pid"] == c["pid"]):
            p["label"] = "probe"
    return {pid: p | {"threads": sorted(t for t, o in thread_of.items() if o == pid)} for pid, p in procs.items()}


# strace's signal names without "SIG", by number: 1-31, then RTMIN (32) and RT_1... (33...).
SIGNAL_NAMES = ("HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP "
                "TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS").split()  # fmt: skip
ALL_SIGNALS = frozenset(range(1, 65))


def signal_number(name: str) -> int | None:
    """strace's name of a signal (SIGUSR1, USR1, SIGRT_3, RTMIN) as its number; None if unknown."""
    name = name.removeprefix("SIG")
    if name in SIGNAL_NAMES:
        return SIGNAL_NAMES.index(name) + 1
    if name == "RTMIN":
        return 32
    if name.startswith("RT_") and name[3:].isdigit():
        return 32 + int(name[3:])
    return None


def signal_name(n: int) -> str:
    return f"SIG{SIGNAL_NAMES[n - 1]}" if n < 32 else "SIGRTMIN" if n == 32 else f"SIGRT_{n - 32}"


def signal_list(numbers) -> str:
    """Signals as their names, runs of consecutive numbers as first–last: 'SIGHUP–SIGFPE SIGSEGV'."""
    nums, out = sorted(set(numbers)), []
    if not nums:
        return "none"
    start = prev = nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(signal_name(start) if start == prev else f"{signal_name(start)}–{signal_name(prev)}")
        if n is not None:
            start = prev = n
    return " ".join(out)


def parse_mask(text: str) -> frozenset | None:
    """strace's sigset ([], ~[], [CHLD], ~[KILL STOP RTMIN RT_1]) as signal numbers; None for NULL."""
    text = text.strip()
    if text == "NULL" or not text.lstrip("~").startswith("["):
        return None
    named = frozenset(n for w in text.lstrip("~").strip("[]").split() if (n := signal_number(w)) is not None)
    return ALL_SIGNALS - named if text.startswith("~") else named


# Arguments split by ", ", or by "," alone where strace parse() joined an interrupted call.
SIGACTION = re.compile(r"^(SIG\w+),\s*(NULL|\{[^}]*\}),\s*(NULL|\{[^}]*\})")


def _sigprocmask_args(args: str) -> tuple[str, frozenset | None]:
    """rt_sigprocmask's how and set (None for NULL)."""
    parts = re.split(r",\s*", args)
    return parts[0], parse_mask(parts[1]) if len(parts) > 1 else None


def disposition(act: str) -> str | None:
    """A struct sigaction as strace prints it -> SIG_DFL, SIG_IGN or handler (its address dropped); NULL -> None."""
    m = re.match(r"\{sa_handler=([^,}]+)", act)
    if not m:
        return None
    return m[1] if m[1] in ("SIG_DFL", "SIG_IGN") else "handler"


class SignalState:
    """What strace shows of each process's signal dispositions and each thread's mask, replayed call by call.

    A new process copies its parent's dispositions and the creating thread's mask, a new thread the
    creator's mask; execve(2) resets handlers to SIG_DFL and keeps SIG_IGN and the mask. An old action
    strace prints (a query, or the value replaced) is taken as the truth at that moment. A disposition no
    call of this run set is the environment's (both sides start from one), so only those some call set
    are reported; the mask starts empty.
    """

    def __init__(self):
        self.disp: dict[int, dict[int, str]] = {}
        self.set: dict[int, set[int]] = {}  # per process, the signals some traced call gave a disposition
        self.mask: dict[int, frozenset] = {}

    def created(self, parent_proc: int, parent_tid: int, child: int, thread: bool) -> None:
        self.mask[child] = self.mask.get(parent_tid, frozenset())
        if not thread:
            self.disp[child] = dict(self.disp.get(parent_proc, {}))
            self.set[child] = set(self.set.get(parent_proc, ()))

    def sigaction(self, proc: int, args: str) -> tuple[int, str] | None:
        """Apply one rt_sigaction; return (signal, new disposition, or 'query' when there is none)."""
        m = SIGACTION.match(args)
        if not m or (sig := signal_number(m[1])) is None:
            return None
        table = self.disp.setdefault(proc, {})
        if (old := disposition(m[3])) is not None:
            table[sig] = old
        if (new := disposition(m[2])) is not None:
            table[sig] = new
            self.set.setdefault(proc, set()).add(sig)
        return sig, new or "query"

    def sigprocmask(self, tid: int, args: str) -> None:
        how, given = _sigprocmask_args(args)
        if given is None:
            return
        mask = self.mask.get(tid, frozenset())
        self.mask[tid] = {"SIG_SETMASK": given, "SIG_BLOCK": mask | given, "SIG_UNBLOCK": mask - given}.get(how, mask)

    def at_execve(self, proc: int, tid: int) -> str:
        """The signal state a program starts with, as /proc/PID/status's SigIgn and SigBlk say it; handlers reset."""
        table = self.disp.setdefault(proc, {})
        ignored = [s for s, d in table.items() if d == "SIG_IGN" and s in self.set.get(proc, ())]
        for s, d in table.items():
            if d == "handler":
                table[s] = "SIG_DFL"
        return f"at execve: ignored {signal_list(ignored)}; blocked {signal_list(self.mask.get(tid, ()))}"


def event(c: dict, label: dict[int, str]) -> str | None:
    """The call as the report shows it: pids and fds named, addresses dropped; None if not shown."""
    name, args = c["name"], c["args"]
    if name in ("clone", "clone3", "fork", "vfork"):
        if "CLONE_THREAD" in _flags(args):
            return None
        child = label.get(int(c["ret"].split()[0]), "?") if c["ret"].split()[0].isdigit() else c["ret"]
        return f"{name}({'|'.join(_flags(args))}) → {child}"
    if name == "execve":
        return f"execve({args.split(',', 1)[0]})"
    if name == "write":
        m = re.match(r"\d+</proc/(\d+|self)/(uid_map|gid_map|setgroups)>, (\"[^\"]*\")", args)
        if not m:
            return None
        who = "self" if m[1] == "self" else label.get(int(m[1]), m[1])
        return f"write(/proc/{who}/{m[2]}, {m[3]})"
    if name in ("wait4", "waitid"):
        if name == "wait4":
            target = label.get(int(args.split(",")[0]), args.split(",")[0]) if args.split(",")[0].isdigit() else "any"
            return f"wait4({target})"
        idtype, options = args.split(",")[0], "|".join(w for w in args.split(", ") if w.startswith("WEXITED"))
        failed = f" → {c['ret'].split()[1]}" if c["ret"].startswith("-1 ") else ""
        return f"waitid({idtype}, {options}){failed}"
    if name == "rt_sigprocmask":
        how, given = _sigprocmask_args(args)
        return (
            f"rt_sigprocmask({how}, {'NULL' if given is None else '[' + (signal_list(given) if given else '') + ']'})"
        )
    if name in ("dup2", "dup3"):
        return f"{name}({re.sub(r'<[^>]*>', '', args)})"
    if name == "prctl":
        return f"prctl({', '.join(args.split(', ')[:2])})"
    if name == "mount":
        return f"mount({re.sub(r'<[^>]*>', '', args)})"
    return f"{name}({re.sub(r'<[^>]*>', '', args)})"


def sequence(calls: list[dict], procs: dict[int, dict]) -> list[dict]:
    """The shown events in order, each as {process, call, n}; runs of signal calls summarised as one."""
    label = {pid: p["label"] for pid, p in procs.items()}
    thread_of = {t: pid for pid, p in procs.items() for t in p["threads"]}
    root_exec = True
    signals = SignalState()
    out: list[dict] = []
    last: dict[str, int] = {}  # each process's last shown event, an index into out
    runs: dict[int, list[int]] = {}  # the signals of each rt_sigaction row, by index
    for c in calls:
        tid = c["pid"]
        pid = thread_of.get(tid, tid)
        if pid not in procs:
            continue
        if c["name"] in ("clone", "clone3", "fork", "vfork") and c["ret"].split()[0].isdigit():
            signals.created(pid, tid, int(c["ret"].split()[0]), "CLONE_THREAD" in _flags(c["args"]))
        elif c["name"] == "rt_sigprocmask":
            signals.sigprocmask(tid, c["args"])
        if c["name"] == "execve" and root_exec and pid == calls[0]["pid"]:
            root_exec = False  # the launcher's own start
            continue
        proc = label[pid]
        if c["name"] == "rt_sigaction":
            # A query (no new action) changes nothing: it is read for the state, not shown. Calls that
            # give one disposition in a row (other processes' calls between them aside) are one row:
            # rt_sigaction(SIGHUP–SIGFPE SIGSEGV, SIG_DFL).
            if (got := signals.sigaction(pid, c["args"])) is None or got[1] == "query":
                continue
            sig, disp = got
            i = last.get(proc)
            if i is not None and i in runs and out[i]["call"].endswith(f", {disp})"):
                runs[i].append(sig)
                out[i]["call"] = f"rt_sigaction({signal_list(runs[i])}, {disp})"
                continue
            last[proc] = len(out)
            runs[len(out)] = [sig]
            out.append({"process": proc, "call": f"rt_sigaction({signal_name(sig)}, {disp})", "n": 1, "ts": c["ts"]})
            continue
        if c["name"] == "execve" and c["ret"] == "0" and proc == "sh":
            # What the program starts with: the behaviour every signal call before it is for.
            last[proc] = len(out)
            out.append({"process": proc, "call": signals.at_execve(pid, tid), "n": 1, "ts": c["ts"]})
        text = event(c, label)
        if text is None:
            continue
        i = last.get(proc)
        if i is not None and out[i]["call"] == text and c["name"].startswith("rt_sig"):
            out[i]["n"] += 1
            continue
        last[proc] = len(out)
        out.append({"process": proc, "call": text, "n": 1, "ts": c["ts"]})
    return out


def start_to_exec_ms(seq: list[dict]) -> float | None:
    """From the launcher's first fork/clone of a process to sh's execve, as strace saw it."""
    start = next((e["ts"] for e in seq if e["process"] == "launcher" and re.match(r"(clone|fork)", e["call"])
                  and not e["call"].endswith("→ probe")), None)  # fmt: skip
    end = next((e["ts"] for e in seq if e["process"] == "sh" and e["call"].startswith("execve")), None)
    return round((end - start) * 1000, 2) if start and end else None


def timing(times: list[float | None]) -> dict:
    """The runs' start-to-exec times: every run, and the median with its range once there are TIMED_FROM."""
    got = [t for t in times if t is not None]
    out: dict = {"runs": got, "median": None, "min": None, "max": None}
    if len(got) >= TIMED_FROM:
        out.update(median=round(statistics.median(got), 1), min=round(min(got), 1), max=round(max(got), 1))
    return out


def timing_text(t: dict) -> str:
    if t["median"] is None:
        return (
            f"not timed ({len(t['runs'])} run{'s' if len(t['runs']) != 1 else ''}; {TIMED_FROM} or more give a median)"
        )
    return f"median {t['median']:.0f} ms (range {t['min']:.0f}–{t['max']:.0f} ms, {len(t['runs'])} runs)"


def key(e: dict) -> str:
    return f"{e['process']}: {e['call']}"


def strategy_of(launcher_name: str) -> str:
    """py-subreaper -> subreaper; the plain port and its other variants run the default, RAW_CLONE."""
    rest = launcher_name.split("-", 1)[1] if launcher_name.startswith("py-") else ""
    return rest if rest in ("subreaper", "relay") else "raw-clone"


def why(sides: tuple[str, ...], e: dict) -> str | None:
    return next((text for s, pattern, text in WHY if s in sides and re.search(pattern, key(e))), None)


def _kind(e: dict) -> str:
    """What makes two differing events a pair: the process, the syscall (prctl: its option), the child made."""
    call = e["call"]
    name = call.split(",")[0] if call.startswith("prctl(") else re.split(r"[(×:]", call)[0]
    return f"{e['process']}: {name} {call.partition('→')[2]}"


def _pairs(op: str, a: list[dict], b: list[dict]):
    """Within a differing block, pair events of one process and syscall; the rest stand alone."""
    if op == "equal":
        yield from zip(a, b, strict=True)
        return
    kind = [[_kind(e) for e in side] for side in (a, b)]
    for sub, i1, i2, j1, j2 in difflib.SequenceMatcher(None, *kind, autojunk=False).get_opcodes():
        if sub == "equal":
            yield from zip(a[i1:i2], b[j1:j2], strict=True)
        else:
            yield from ((g, None) for g in a[i1:i2])
            yield from ((None, p) for p in b[j1:j2])


def align(go: list[dict], port: list[dict], strategy: str) -> list[dict]:
    """Rows of (go event, port event, same, why); a row with one side missing leaves it None.

    Each process is aligned on its own (launcher, then the others as they first appear): how the
    processes' events interleave in time changes from run to run, and aligned as one sequence a
    different interleaving could leave one event of a process unpaired in one run and not the next.
    """
    rows, port_sides = [], ("port", strategy)
    for proc in dict.fromkeys(e["process"] for e in [*go, *port]):
        rows += _align_process([e for e in go if e["process"] == proc], [e for e in port if e["process"] == proc],
                               port_sides)  # fmt: skip
    return rows


def _align_process(go: list[dict], port: list[dict], port_sides: tuple[str, str]) -> list[dict]:
    rows = []
    matcher = difflib.SequenceMatcher(None, [key(e) for e in go], [key(e) for e in port], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for g, p in _pairs(op, go[i1:i2], port[j1:j2]):
            same = g is not None and p is not None and key(g) == key(p) and g["n"] == p["n"]
            reasons = [] if same else [r for r in (g and why(("go",), g), p and why(port_sides, p)) if r]
            if not same and ((g and not why(("go",), g)) or (p and not why(port_sides, p))):
                reasons.append("UNEXPLAINED")
            rows.append({"go": g, "port": p, "same": same, "why": "; ".join(dict.fromkeys(reasons))})
    return rows


def namespace_calls(seq: list[dict]) -> list[str]:
    """The namespace-making calls in order, clone flags reduced to the CLONE_NEW* ones."""
    out = []
    for e in seq:
        if not NAMESPACE_CALLS.search(e["call"]):
            continue
        call = e["call"]
        if call.startswith("clone"):
            flags = [f for f in call.split("(", 1)[1].split(")")[0].split("|") if f in NAMESPACE_FLAGS]
            if not flags:
                continue
            call = f"{call.split('(')[0]}({'|'.join(sorted(flags))})"
        out.append(f"{e['process']}: {call}")
    return out


def trace_one(lc, tmp: Path, i: int) -> tuple[list[dict], dict[int, dict], str | None]:
    """One traced start: (sequence, processes, why it could not be traced or None)."""
    log = tmp / f"{lc.name}.{i}.strace"
    try:
        strace(list(lc.argv), log, SHOWN)
        calls = parse(log.read_text()) if log.exists() else []
    except (OSError, subprocess.SubprocessError) as e:
        return [], {}, f"strace could not run it: {e}"
    if not calls:
        return [], {}, "strace recorded no call"
    procs = processes(calls)
    if not any(p["label"] == "sh" for p in procs.values()):
        return sequence(calls, procs), procs, "no sh was started under strace"
    return sequence(calls, procs), procs, None


def trace(chosen: list, runs: int = 1) -> dict:
    """Trace each launcher (runs times, for the timing); compare every other one with the first (the reference)."""
    traced = []
    with tempfile.TemporaryDirectory(prefix="nsport-trace-") as tmp:
        for lc in chosen:
            first = trace_one(lc, Path(tmp), 0)
            times = [start_to_exec_ms(first[0])] if first[2] is None else []
            for i in range(1, runs if first[2] is None else 0):
                seq, _, problem = trace_one(lc, Path(tmp), i)
                if problem is None:
                    times.append(start_to_exec_ms(seq))
            traced.append((lc, first, times))
    out = []
    for lc, (seq, procs, problem), times in traced:
        out.append({
            "name": lc.name, "argv": list(lc.argv), "about": lc.about, "not_run": problem,
            "processes": [{"pid": p["pid"], "label": p["label"], "namespaces": sorted(p["own"]),
                           "threads": len(p["threads"])} for p in procs.values()],
            "events": seq, "start_to_exec_ms": timing(times), "namespace_calls": namespace_calls(seq),
        })  # fmt: skip
    ref = out[0]
    comparisons = []
    for run in out[1:]:
        strategy = strategy_of(run["name"])
        problem = "; ".join(f"{r['name']}: {r['not_run']}" for r in (ref, run) if r["not_run"])
        rows = [] if problem else align(ref["events"], run["events"], strategy)
        same_calls = run["namespace_calls"] == ref["namespace_calls"]
        unexplained = sum("UNEXPLAINED" in r["why"] for r in rows)
        expected_why = EXPECTED_CALLS.get(strategy) if not same_calls else None
        if problem:
            state = "not verified"
        elif unexplained or (not same_calls and not expected_why):
            state = "differs"
        else:
            state = "expected" if expected_why else "match"
        comparisons.append({
            "port": run["name"], "strategy": strategy, "rows": rows, "state": state,
            "differences": sum(not r["same"] for r in rows), "unexplained": unexplained,
            "namespace_calls_match": same_calls and not problem,
            "namespace_calls_why": expected_why or "", "not_verified": problem or None,
        })  # fmt: skip
    return {"launchers": out, "comparisons": comparisons}


MARK = {"match": "✓", "expected": "≈", "differs": "✗", "not verified": "?"}
LEGEND = ("✓ the same namespace calls as the reference, every other difference explained · ≈ namespace calls "
          "that differ by the strategy's design (reason shown), every other difference explained · ✗ an "
          "unexplained difference, or namespace calls that should be the reference's and are not · ? not "
          "verified: could not be traced (reason shown)")  # fmt: skip


def calls_verdict(comparison: dict, ref: str) -> str:
    """What a comparison's namespace calls say, in words (never a bare True/False)."""
    if comparison["state"] == "not verified":
        return f"not verified: {comparison['not_verified']}"
    if comparison["namespace_calls_match"]:
        return f"the same namespace calls as {ref}"
    if comparison["namespace_calls_why"]:
        return f"namespace calls differ as expected: {comparison['namespace_calls_why']}"
    return f"namespace calls differ from {ref}'s, and no strategy explains it"


def make_verdict(result: dict, meta: dict | None = None) -> dict:
    ref = result["launchers"][0]["name"]
    cmps = result["comparisons"]
    states = [c["state"] for c in cmps]
    counts = {"compared": len(cmps), "match": states.count("match"), "expected": states.count("expected"),
              "differs": states.count("differs"), "not verified": states.count("not verified"),
              "unexplained rows": sum(c["unexplained"] for c in cmps)}  # fmt: skip
    agree = counts["match"] + counts["expected"]
    parts = [f"{agree}/{len(cmps)} launchers start sh as {ref} does or as their strategy explains"]
    if same := [c["port"] for c in cmps if c["state"] == "match"]:
        parts.append(f"{', '.join(same)}: {ref}'s namespace calls")
    if exp := [c["port"] for c in cmps if c["state"] == "expected"]:
        parts.append(f"{', '.join(exp)}: differ as expected (a middle process unshares)")
    if bad := [c for c in cmps if c["state"] == "differs"]:
        parts.append(f"{', '.join(c['port'] for c in bad)}: differ unexpectedly")
    parts.append(f"{counts['unexplained rows']} unexplained differences")
    not_verified = [{"where": c["port"], "reason": c["not_verified"]} for c in cmps if c["state"] == "not verified"]
    if not_verified:
        parts.append(f"{len(not_verified)} not verified ({verdict.reasons(not_verified)})")
    differences = [f"{c['port']}: {c['unexplained']} unexplained differences; {calls_verdict(c, ref)}" for c in bad]
    state = verdict.decide(len(cmps), counts["differs"], counts["not verified"])
    return verdict.make(state, "; ".join(parts), counts, meta, differences=differences, not_verified=not_verified)


def report(result: dict, meta: dict | None = None) -> dict:
    """The JSON report: the verdict first, then the run, then the traces and comparisons."""
    return {"verdict": make_verdict(result, meta), "meta": meta or {}, **result}


def text(result: dict, meta: dict | None = None, width: int = 80) -> list[tuple[str, str]]:
    """The terminal's lines (text, style): verdict, run, legend, then a block per launcher; times last."""
    wrap = verdict.wrap
    v = make_verdict(result, meta)
    ref = result["launchers"][0]
    out = [(line, verdict.STYLE[v["state"]]) for line in wrap(verdict.headline(v), width, "    ", "")]
    if meta:
        out += [(line, "dim") for line in wrap(verdict.run_line(meta), width, "    ", "")]
    out += [(line, "dim") for line in wrap(f"legend: {LEGEND}", width, "    ", "")]
    out.append(("", ""))
    out += wrap(f"{ref['name']} (reference): {' ; '.join(ref['namespace_calls']) or 'no namespace call'}", width,
                "    ", "  ")  # fmt: skip
    for c in result["comparisons"]:
        run = next(r for r in result["launchers"] if r["name"] == c["port"])
        style = {"match": "green", "expected": "yellow", "differs": "bold red", "not verified": "magenta"}[c["state"]]
        out += [(line, style) for line in wrap(f"{c['port']}: {calls_verdict(c, ref['name'])}", width, "    ",
                                               f"{MARK[c['state']]} ")]  # fmt: skip
        if c["state"] != "not verified":
            if not c["namespace_calls_match"]:
                out += wrap(f"its calls: {' ; '.join(run['namespace_calls'])}", width, "      ", "    ")
            explained = "all explained" if not c["unexplained"] else f"{c['unexplained']} UNEXPLAINED"
            out.append((f"    {c['differences']} rows of the sequence differ from {ref['name']}'s, {explained}", ""))
    out.append(("", ""))
    out += wrap("start to execve(sh) under strace (slower than real; not part of the verdict; make bench measures "
                "speed):", width, "    ", "")  # fmt: skip
    for r in result["launchers"]:
        out += wrap(timing_text(r["start_to_exec_ms"]), width, "      ", f"  {r['name']}: ")
    return [(line, "") if isinstance(line, str) else line for line in out]


def _cell(e: dict | None) -> str:
    if e is None:
        return ""
    times = f" ×{e['n']}" if e["n"] > 1 else ""
    return f"{e['process']}: {e['call']}{times}"


def _md(text: str) -> str:
    """A Markdown table cell: `|` escaped (inside code spans too), newlines shown."""
    return text.replace("|", "\\|").replace("\n", " ⏎ ")


def _code(text: str) -> str:
    return f"`{_md(text)}`" if text else ""


def markdown(result: dict, meta: dict | None = None) -> str:

    v = make_verdict(result, meta)
    ref = result["launchers"][0]
    head = templates().get_template("_verdict.md").render(verdict=v)
    out = ["# How each launcher starts sh, syscall by syscall", "", head.rstrip("\n"), "", f"Legend: {LEGEND}.", "",
           "Made by `make trace` (scripts/trace.py): each launcher under `strace -f` with `exit` on stdin. Shown: "
           f"`{SHOWN}` (writes only to `/proc/*/uid_map`, `gid_map`, `setgroups`); runs of signal calls are "
           "summarised. Times are strace's (slower than real), from start to `execve(sh)`; a median and its range "
           f"only from {TIMED_FROM} runs on, and not part of the verdict.", "",
           "| launcher | processes (namespaces they end in) | first clone/fork → execve(sh) | namespace calls |",
           "|---|---|---|---|"]  # fmt: skip
    for run in result["launchers"]:
        procs = ", ".join(f"{p['label']} ({', '.join(p['namespaces']) or 'host'})" for p in run["processes"])
        cmp = next((c for c in result["comparisons"] if c["port"] == run["name"]), None)
        calls = "reference" if cmp is None else f"{MARK[cmp['state']]} {calls_verdict(cmp, ref['name'])}"
        if run["not_run"]:
            procs = f"not traced: {run['not_run']}"
        out.append(f"| {_md(run['name'])} | {_md(procs)} | {_md(timing_text(run['start_to_exec_ms']))} | "
                   f"{_md(calls)} |")  # fmt: skip
    for cmp in result["comparisons"]:
        port = next(r for r in result["launchers"] if r["name"] == cmp["port"])
        out += ["", f"## {ref['name']} beside {cmp['port']}", "", port["about"], "",
                f"{MARK[cmp['state']]} {calls_verdict(cmp, ref['name'])}.", "",
                f"Namespace calls, {ref['name']}: `{' ; '.join(ref['namespace_calls'])}`", "",
                f"Namespace calls, {cmp['port']}: `{' ; '.join(port['namespace_calls'])}`", "",
                f"{cmp['differences']} rows differ, {cmp['unexplained']} unexplained.", "",
                f"| {ref['name']} | {cmp['port']} | why they differ |", "|---|---|---|"]  # fmt: skip
        for r in cmp["rows"]:
            out.append(
                f"| {_code(_cell(r['go']))} | {_code(_cell(r['port']))} | {'' if r['same'] else _md(r['why'])} |"
            )
    if meta:
        out += ["", "## Run", "", "| | |", "|---|---|", *(f"| {k} | {_md(str(val))} |" for k, val in meta.items())]
    return "\n".join(out) + "\n"


def html(result: dict, meta: dict | None = None) -> str:

    env = templates()
    env.filters["cell"] = _cell
    return env.get_template("trace.html.j2").render(result=result, shown=SHOWN, verdict=make_verdict(result, meta),
                                                    meta=meta or {}, mark=MARK, legend=LEGEND, timing=timing_text,
                                                    calls_verdict=calls_verdict,
                                                    title="nsport: syscall traces side by side")  # fmt: skip
