"""Fail each syscall of the start path, one at a time, under Go and the port (make faults).

Two families of launchers (FAMILIES): the notes program, as make trace runs it, and the SysProcAttr
launcher with ID maps, a Credential and Setsid (MAPPED), whose start also writes the maps and sets ids;
in each, Go's launcher is the reference and the port runs under each strategy.

A clean run of each launcher under `strace -f` (the notes program, as make trace runs it) says
which syscalls its start makes and how often each process makes each (SWEPT: the ones the kernel
can fail there, with the errnos it can return). Then, one run per (syscall, N, errno),
`strace -f --inject=SYSCALL:error=ERRNO:when=N` fails the Nth such call of every process, and
the run's trace says which call that was (strace marks it INJECTED). A call is named by its role,
not its number: "launcher: clone (the new process)", "child: execve(/usr/bin/sh)",
"launcher: wait for the child"; Go's runtime threads and the port's middle process make the
numbers differ, the roles do not.

For each role and errno, Go's stdout, stderr and exit status are put beside the port's (each
strategy), with the log's date and time masked. After each run the host guard says whether
anything was left behind: a process of the run (each run's processes carry a marker in their
environment, so one re-parented to init is found too), and with it the descriptors and
namespaces only a live process holds; the host's mounts, IPC objects, links and hostname
(hostguard.snapshot).

A result is identical, declared (DECLARED: the difference, with its reason, and it must still
occur) or a divergence. A role only one side has is declared with its reason (ONE_SIDED), like
the trace's; one without is a divergence. A strategy whose calls stand in for Go's under another
name says so (ALIASES). strace counts a syscall per process, so a call whose every N fails an
earlier one first (the middle process's fork) is never reached alone: listed as not reached.
"""

import contextlib
import os
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from tests.support import hostguard, verdict
from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY, Launcher
from tests.support.paths import ROOT
from tests.support.piped import LOG_TIME
from tests.support.report import templates
from tests.support.strace import parse

# A second family beside the notes program (make trace's launchers): the SysProcAttr launcher with ID maps,
# a Credential and Setsid, whose start writes the maps and sets ids (each strategy of the port). No
# Pdeathsig: a launcher that fails after the start would kill sh while it prints, a race on either side.
MAPPED_ARGS = ("--clone", "user,pid,ns,uts,ipc,net", "--uid-map", "0:0:1", "--gid-map", "0:0:1", "--setgroups", "allow",
               "--credential", "0:0:0", "--setsid")  # fmt: skip
MAPPED = [
    Launcher("maps-go", (*LAUNCHER_GO.argv, *MAPPED_ARGS, "--", "sh"),
             "the SysProcAttr launcher in Go: ID maps, Credential, Setsid", reference=True),
    *(Launcher(f"maps-py{suffix}", (*LAUNCHER_PY.argv, *MAPPED_ARGS, "--strategy", strategy, "--", "sh"),
               f"its Python twin ({strategy})") for suffix, strategy in
      (("", "raw-clone"), ("-subreaper", "subreaper"), ("-relay", "relay"))),
]  # fmt: skip
FAMILIES = ("notes", "maps")

# What sh is told: its descriptors (a start that leaks one shows it) and an exit status of its own.
STDIN = b"echo fds: /proc/self/fd/*; exit 3\n"
MARKER = "NSPORT_FAULTS_RUN"  # in every process of an injection's environment: the guard finds them by it
TIMEOUT = 20  # seconds an injected run may take before it is killed (a hang is an outcome too)

# The syscalls of the start path that the kernel can fail there, and with what (man pages, and the
# kernel's sources for the namespace calls). One fault per run: each errno at each occurrence.
SWEPT = {
    "clone": ("EAGAIN", "ENOMEM", "ENOSPC", "EPERM", "EUSERS"),
    "clone3": ("EAGAIN", "ENOMEM", "ENOSPC", "EPERM", "EUSERS"),
    "fork": ("EAGAIN", "ENOMEM"),
    "vfork": ("EAGAIN", "ENOMEM"),
    "unshare": ("EPERM", "ENOMEM", "ENOSPC", "EINVAL", "EUSERS"),
    "setns": ("EPERM", "EINVAL", "ENOMEM"),
    "execve": ("ENOENT", "EACCES", "ENOEXEC", "E2BIG", "ENOMEM"),
    "pipe2": ("EMFILE", "ENFILE"),
    "pidfd_open": ("EMFILE", "ENFILE", "ESRCH", "ENOSYS"),  # ENOSYS: a kernel before 5.3
    "prctl": ("EINVAL", "EPERM"),
    "dup2": ("EBADF", "EMFILE", "EBUSY"),
    "dup3": ("EBADF", "EMFILE", "EBUSY"),
    "wait4": ("ECHILD", "EINTR"),
    "waitid": ("ECHILD", "EINTR"),
    "mount": ("EPERM", "EINVAL", "ENOMEM"),
    "sethostname": ("EPERM", "EINVAL"),
    "setgroups": ("EPERM",),
    "setresuid": ("EPERM", "EAGAIN"),
    "setresgid": ("EPERM",),
    "setsid": ("EPERM",),
    "setpgid": ("EPERM", "ESRCH"),
    "setgid": ("EPERM", "EINVAL"),
    "setuid": ("EPERM", "EAGAIN", "EINVAL"),
    "write": ("EPERM", "EINVAL", "EPIPE"),  # the map files say EPERM and EINVAL, a pipe without a reader EPIPE
}
# What make trace shows of the start and this sweep leaves alone, and why.
NOT_SWEPT = {
    "rt_sigaction": "cannot fail with a valid signal and action (EINVAL and EFAULT only)",
    "rt_sigprocmask": "cannot fail with a valid how and set (EINVAL and EFAULT only)",
    "exit_group": "cannot fail",
}
CAP = 8  # occurrences per syscall and process: Go's runtime starts a handful of threads, the start needs 1-3

# A port strategy's call that stands in for Go's under another name: (strategy, port's role, Go's role, why).
ALIASES = [
    ("subreaper", "launcher: clone (the middle process)", "launcher: clone (the child)",
     "the fork that starts the start: Go's clone makes the child, SUBREAPER's fork the middle process"),
    ("relay", "launcher: clone (the middle process)", "launcher: clone (the child)",
     "the fork that starts the start: Go's clone makes the child, RELAY's fork the middle process"),
    ("relay", "launcher: wait for the middle process", "launcher: wait for the child",
     "RELAY's launcher waits for the relay, which ends as sh ended: Go's wait for the child"),
    ("relay", "launcher: pidfd_open(the middle process)", "launcher: pidfd_open(the child)",
     "RELAY's Process is the relay's"),
    *((strategy, f"launcher: write(middle process's {file})", f"launcher: write(child's {file})",
       f"{strategy.upper()}: the middle process unshares, so its {file} is the one the launcher writes")
      for strategy in ("subreaper", "relay") for file in ("uid_map", "setgroups", "gid_map")),
]  # fmt: skip
# Roles only one side has: (side, pattern on the role, why). side: "go", "port" (every strategy) or a strategy.
ONE_SIDED = [
    ("go", r"^launcher: clone \(a thread\)$", "Go's runtime starts its threads with clone(CLONE_THREAD); "
     "CPython's launcher has one thread"),
    ("go", r"^launcher: prctl\(PR_SET_VMA", "Go's runtime names its memory regions at start-up"),
    ("go", r"^launcher: (pidfd_open\(itself\)|waitid \(the pidfd check|clone \(the pidfd check)",
     "Go's os package checks once that pidfds work (pidfd_open on itself, a vfork child it waits for); "
     "the port asks no such question"),
    ("port", r"^launcher: pidfd_open\(the (child|middle process)\)$",
     "Go's child comes with its pidfd (clone's CLONE_PIDFD); the port opens one after the start"),
    ("port", r"^launcher: pipe2 #[2-9]$", "the fork strategies' pipes beyond Go's (ready, hand-off, adoption)"),
    ("subreaper", r'^launcher: write\(pipe: "a"\)$', "SUBREAPER: the launcher lets the adopted child go on"),
    ("subreaper", r"^launcher: prctl\(PR_(GET|SET)_CHILD_SUBREAPER",
     "SUBREAPER: the launcher is a child subreaper for the start"),
    ("subreaper", r"^launcher: wait for the middle process$",
     "SUBREAPER: the launcher reaps the middle process, adopting the child"),
    ("port", r"^middle: ", "fork cannot carry Cloneflags: the middle process unshares and forks the child"),
]  # fmt: skip
# One-sided calls whose failure changes nothing (Go's runtime ignores it): failed beside another, not collateral.
HARMLESS = r"^launcher: prctl\(PR_SET_VMA"
# Roles strace's per-process count cannot fail first: (side, pattern on the role as Go's, why). Shown as
# unreachable with the reason; any other role one side never failed first is not verified.
UNREACHABLE = [
    ("relay", r"^launcher: wait for (the child|the middle process)$", "RELAY's relay makes its own first wait4 "
     "(for sh) before the launcher's first (for the relay): when=1 fails the relay's, and the launcher has no "
     "second"),
    (("subreaper", "relay"), r"^launcher: write\((the )?(child|middle process)'s uid_map\)$", "the middle "
     "process's first write (its ready byte) comes before the launcher's first (the uid_map): when=1 fails it, "
     "and the launcher writes no map"),
    ("port", r"^middle: clone \(the child\)$", "the middle process's fork is its first clone, and the launcher's "
     "fork, its first too, comes before it: when=1 fails the launcher's"),
]  # fmt: skip


def unreachable(sides: tuple[str, ...], role: str) -> str | None:
    """Why strace cannot fail role first on these sides (an entry names one side, or a tuple of them)."""
    for side, pattern, why in UNREACHABLE:
        if set((side,) if isinstance(side, str) else side) & set(sides) and re.search(pattern, role):
            return why
    return None


# Differences in outcome for a role both sides have, by design: (side, pattern on the role, errno or "",
# why). Checked every run: a declared difference that no longer occurs is reported.
DECLARED: list[tuple[str, str, str, str]] = []


# --- processes and roles --------------------------------------------------------------


def _flags(args: str) -> list[str]:
    m = re.search(r"flags=([\w|]+)", args)
    return m[1].split("|") if m else []


def _child_pid(c: dict) -> int | None:
    word = c["ret"].split()[0]
    return int(word) if word.isdigit() else None


def roles(calls: list[dict], child_generation: int | None = None) -> list[str]:
    """Each call's role: the process (launcher, middle, child, sh once it runs) and what the call is for.

    child_generation: how many creations from the launcher the child is (1: Go's one clone; 2 with a middle
    process), from the clean run; None: the one that executes /usr/bin/sh in these calls.
    """
    if not calls:
        return []
    root = calls[0]["pid"]
    thread_of: dict[int, int] = {}
    gen = {root: 0}
    kind = {root: "launcher"}
    pidfd: dict[tuple[int, str], int] = {}  # (process, fd) -> pid
    for c in calls:  # the tree first: an injected clone makes nothing, the others are known
        pid = thread_of.get(c["pid"], c["pid"])
        if c["name"] in ("clone", "clone3", "fork", "vfork") and (child := _child_pid(c)):
            flags = _flags(c["args"])
            if "CLONE_THREAD" in flags:
                thread_of[child] = pid
                continue
            gen[child] = gen.get(pid, 0) + 1
            kind[child] = "probe" if "CLONE_VFORK" in flags else ""
        elif c["name"] == "execve" and c["ret"] == "0" and c["pid"] != root and '"/usr/bin/sh"' in c["args"]:
            if child_generation is None:
                child_generation = gen.get(pid)
    child_generation = child_generation or 1

    def who(pid: int) -> str:
        if pid == root:
            return "itself"
        if kind.get(pid) == "probe":
            return "the pidfd check's child"
        return "the child" if gen.get(pid) == child_generation else "the middle process"

    out, started, pipes = [], set(), {}
    for c in calls:
        pid = thread_of.get(c["pid"], c["pid"])
        name, args = c["name"], c["args"]
        if pid in started:
            proc = "sh"
        elif pid == root:
            proc = "launcher"
        else:
            proc = "probe" if kind.get(pid) == "probe" else who(pid).removeprefix("the ").replace(" process", "")
        if name in ("clone", "clone3", "fork", "vfork"):
            flags = _flags(args)
            if "CLONE_THREAD" in flags:
                what = "clone (a thread)"
            elif "CLONE_VFORK" in flags:
                what = "clone (the pidfd check's child)"
            else:
                made = gen.get(pid, 0) + 1
                what = f"clone ({'the child' if made == child_generation else 'the middle process'})"
            if (child := _child_pid(c)) and (m := re.search(r"parent_tid=\[(\d+)", args)):
                pidfd[(pid, m[1])] = child
        elif name == "execve":
            what = f"execve({args.split(',', 1)[0].strip(chr(34))})"
            if c["ret"] == "0" and pid != root:
                started.add(pid)
        elif name == "pidfd_open":
            target = int(args.split(",")[0])
            if (fd := c["ret"].split("<")[0]).isdigit():
                pidfd[(pid, fd)] = target
            what = f"pidfd_open({who(target)})"
        elif name == "wait4":
            target = args.split(",")[0]
            what = f"wait for {who(int(target))}" if target.isdigit() else "wait for any child"
        elif name == "waitid":
            parts = [p.strip() for p in args.split(",")]
            target = pidfd.get((pid, parts[1].split("<")[0])) if parts[0] == "P_PIDFD" else None
            if target == root:
                what = "waitid (the pidfd check on itself)"
            elif target is not None and kind.get(target) == "probe":
                what = "waitid (the pidfd check's child)"
            else:
                what = f"wait for {who(target) if target else 'a child'}"
        elif name == "write":
            fd, _, path = args.split(",")[0].partition("<")
            path = path.rstrip(">")
            if m := re.match(r"/proc/(\d+)/(uid_map|gid_map|setgroups)$", path):
                what = f"write({who(int(m[1])).removeprefix('the ')}'s {m[2]})"
            elif fd in ("1", "2"):
                what = f"write({'stdout' if fd == '1' else 'stderr'})"
            elif path.startswith("pipe:"):  # named by what is written: a byte as it is, an errno or pid by size
                data = re.search(r', "((?:[^"\\]|\\.)*)"(?:\.\.\.)?, (\d+)', args)
                shown = f'"{data[1]}"' if data and len(data[1]) == 1 else f"{data[2]} bytes" if data else "?"
                what = f"write(pipe: {shown})"
            else:
                what = "write(another file)"
        elif name == "pipe2":
            pipes[pid] = pipes.get(pid, 0) + 1
            what = f"pipe2 #{pipes[pid]}"
        elif name == "prctl":
            option, _, rest = args.partition(", ")
            value = rest.split(",")[0]
            what = f"prctl({option}{', ' + value if value.isdigit() else ''})"
        else:
            what = f"{name}({re.sub(r'<[^>]*>', '', args.split(', ')[0])})"
        out.append(f"{proc}: {what}")
    return out


def child_generation(calls: list[dict]) -> int | None:
    """In a clean run: how many creations from the launcher the process that executes sh is."""
    root = calls[0]["pid"] if calls else None
    thread_of, gen = {}, {root: 0}
    for c in calls:
        pid = thread_of.get(c["pid"], c["pid"])
        if c["name"] in ("clone", "clone3", "fork", "vfork") and (child := _child_pid(c)):
            if "CLONE_THREAD" in _flags(c["args"]):
                thread_of[child] = pid
            else:
                gen[child] = gen.get(pid, 0) + 1
        elif c["name"] == "execve" and c["ret"] == "0" and c["pid"] != root and '"/usr/bin/sh"' in c["args"]:
            return gen.get(pid)
    return None


def occurrences(calls: list[dict]) -> dict[str, int]:
    """Each swept syscall's most calls by one process (strace counts per process) before sh runs."""
    started, counts = set(), {}
    root = calls[0]["pid"] if calls else None
    for c in calls:
        if c["pid"] in started or c["name"] not in SWEPT:
            continue
        if c["name"] == "execve" and c["pid"] == root:
            continue  # the launcher's own start: strace does not count it
        counts.setdefault(c["name"], {}).setdefault(c["pid"], 0)
        counts[c["name"]][c["pid"]] += 1
        if c["name"] == "execve" and c["ret"] == "0":
            started.add(c["pid"])
    return {name: min(CAP, max(per.values())) for name, per in counts.items()}


# --- one run --------------------------------------------------------------------------


def normalise(data: bytes) -> str:
    """The log's date and time masked, addresses and goroutine numbers of a Go crash too."""
    text = LOG_TIME.sub(b"YYYY/MM/DD hh:mm:ss ", data).decode(errors="replace")
    text = re.sub(r"0x[0-9a-f]{6,}", "0x…", text)
    return re.sub(r"\bgoroutine \d+\b", "goroutine N", text)


def status_text(returncode: int | None) -> str:
    if returncode is None:
        return f"timed out after {TIMEOUT} s (killed)"
    if returncode < 0:
        return f"killed by {_signame(-returncode)}"
    return f"exit {returncode}"


def _signame(n: int) -> str:
    import signal

    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


def _marked(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(MARKER) == marker:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def left_behind(marker: str, before: dict) -> list[str]:
    """What the run left on the host: its processes (killed here, by pid, and reaped when they are ours)
    and any change to what hostguard.snapshot records."""
    found = []
    for proc in _marked(marker):
        try:
            nss = sorted(p.name for p in Path(f"/proc/{proc.pid}/ns").iterdir())
            found.append(f"process {proc.pid} ({proc.name()}, {proc.status()}), holding its namespaces "
                         f"({', '.join(nss)}) and descriptors ({len(os.listdir(f'/proc/{proc.pid}/fd'))})")  # fmt: skip
            proc.kill()
        except (psutil.NoSuchProcess, OSError):
            continue
    hostguard.leftovers(os.getpid())  # reap what is ours
    found += hostguard.diff(before, hostguard.snapshot())
    return found


def inject(lc: Launcher, log: Path, fault: tuple[str, int, str] | None, stdin: bytes = STDIN) -> dict:
    """Run a launcher under strace -f, with one fault (syscall, when, errno) or none: its outcome, calls,
    and what it left behind."""
    trace = ",".join(SWEPT)
    cmd = ["strace", "-f", "-qq", "-ttt", "-y", "-s", "64", "--seccomp-bpf", "-e", "signal=none",
           "-e", f"trace={trace}", "-o", str(log)]  # fmt: skip
    if fault:
        syscall, when, err = fault
        cmd += [f"--inject={syscall}:error={err}:when={when}"]
    marker = uuid.uuid4().hex
    env = {**os.environ, MARKER: marker}
    before = hostguard.snapshot()
    start = time.monotonic()
    try:
        done = subprocess.run([*cmd, *lc.argv], input=stdin, capture_output=True, cwd=ROOT, env=env, timeout=TIMEOUT)
        out, err_out, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as e:
        out, err_out, code = e.stdout or b"", e.stderr or b"", None
    seconds = time.monotonic() - start
    calls = parse(log.read_text(errors="replace")) if log.exists() else []
    return {
        "stdout": normalise(out),
        "stderr": normalise(err_out),
        "status": status_text(code),
        "calls": calls,
        "left": left_behind(marker, before),
        "seconds": round(seconds, 3),
    }


def injected(calls: list[dict], generation: int | None) -> list[str]:
    """The roles of the calls strace failed, in order, each once."""
    named = roles(calls, generation)
    return list(dict.fromkeys(r for c, r in zip(calls, named, strict=True) if c["ret"].endswith("(INJECTED)")))


# --- the sweep ------------------------------------------------------------------------


def plan(counts: dict[str, int], only: list[tuple[str, int, str]] | None = None) -> list[tuple[str, int, str]]:
    """Every (syscall, when, errno) for these occurrence counts; `only` keeps those it names."""
    faults = [(s, n, e) for s in SWEPT if s in counts for n in range(1, counts[s] + 1) for e in SWEPT[s]]
    return [f for f in faults if f in only] if only is not None else faults


def family(name: str, chosen: list[Launcher]) -> list[Launcher]:
    """The launchers of a family for the notes launchers chosen: notes itself, or maps-go and each chosen port
    strategy's maps twin."""
    if name == "notes":
        return chosen
    ports = {strategy_of(lc.name) for lc in chosen if not lc.reference}
    return [lc for lc in MAPPED if lc.reference or strategy_of(lc.name) in ports]


def sweep_families(names: list[str], chosen: list[Launcher], only=None, stages=None) -> dict:
    """sweep() each family; one result, each comparison naming its reference."""
    results = [sweep(family(name, chosen), only, stages) for name in names]
    return {"launchers": [lc for r in results for lc in r["launchers"]],
            "comparisons": [c for r in results for c in r["comparisons"]]}  # fmt: skip


def sweep(chosen: list[Launcher], only: list[tuple[str, int, str]] | None = None, stages=None,
          retry: bool = True) -> dict:  # fmt: skip
    """Clean-run each launcher, then run every fault of its plan. The first launcher is the reference.

    stages(total), when given, makes the progress.Stages the runs report to; retry=False leaves out the
    retries of roles the plan did not fail first."""
    out = []
    with tempfile.TemporaryDirectory(prefix="nsport-faults-") as tmp:
        cleans = {lc.name: inject(lc, Path(tmp) / f"{lc.name}.clean", None) for lc in chosen}
        plans = {lc.name: plan(occurrences(cleans[lc.name]["calls"]), only) for lc in chosen}
        # The (syscall, errno) pairs asked for: a call the clean run made at another N is still retried.
        wanted = {(s, e) for s, _, e in only} if only is not None else {(s, e) for s in SWEPT for e in SWEPT[s]}
        total = sum(len(p) for p in plans.values())
        with stages(total) if stages else contextlib.nullcontext() as progress:
            for lc in chosen:
                out.append(_sweep_one(lc, cleans[lc.name], plans[lc.name], Path(tmp), progress, retry, wanted))
    return compare(out)


def start_path(calls: list[dict], generation: int | None) -> list[tuple[str, str, int]]:
    """The swept calls of a clean run's start as (role, syscall, N): N counts that syscall in its process,
    as strace's when= does (threads are processes of their own to strace)."""
    named, seen, out, started = roles(calls, generation), {}, [], set()
    root = calls[0]["pid"] if calls else None
    for c, role in zip(calls, named, strict=True):
        if c["name"] not in SWEPT or c["pid"] in started or (c["name"] == "execve" and c["pid"] == root):
            continue
        seen[(c["pid"], c["name"])] = n = seen.get((c["pid"], c["name"]), 0) + 1
        out.append((role, c["name"], n))
        if c["name"] == "execve" and c["ret"] == "0":
            started.add(c["pid"])
    return out


# A role the planned runs did not fail first is tried at every N up to the clean run's most + RETRIES, the
# clean run's own N first, up to PASSES times each: Go starts 3 to 5 threads, and under load its goroutine
# makes the call from another thread than in the clean run, whose own count it then is. Roles declared
# unreachable are not retried.
RETRIES, PASSES = 3, 6


def _sweep_one(lc: Launcher, clean: dict, faults: list, tmp: Path, progress, retry: bool, wanted: set) -> dict:
    """One launcher's injections, each run once; then each start-path role of the clean run that no run
    failed first is tried at nearby N (strace counts per process, and Go's threads vary in number)."""
    generation = child_generation(clean["calls"])
    sides = ("go",) if lc.reference else ("port", strategy_of(lc.name))
    runs: list[dict] = []

    def run(fault: tuple[str, int, str], retried: bool = False) -> dict:
        got = inject(lc, tmp / f"{lc.name}.{len(runs)}", fault)
        failed = injected(got["calls"], generation)
        key = next((x for x in failed if not one_sided(sides, x)), failed[0] if failed else None)
        runs.append({"syscall": fault[0], "when": fault[1], "errno": fault[2], "retry": retried, "roles": failed,
                     "key": key, "collateral": [x for x in failed if x != key and not x.startswith("sh: ")
                                                and not re.search(HARMLESS, x)],
                     **{k: got[k] for k in ("stdout", "stderr", "status", "left", "seconds")}})  # fmt: skip
        return runs[-1]

    if progress is not None and faults:
        progress.stage(f"{lc.name}: {len(faults)} injections")
    for fault in faults:
        run(fault)
        if progress is not None:
            progress.advance()
    if lc.reference:
        # Go's goroutine moves between threads, and strace counts per thread: the same when= can also fail a
        # later call that ran on another thread (log.Fatal's write after fmt.Println's), or not. Such a run is
        # made again, up to PASSES times, for one that fails its key call alone (_by_key prefers it).
        for r in [r for r in runs if r["collateral"]]:
            for _ in range(PASSES - 1):
                again = run((r["syscall"], r["when"], r["errno"]), retried=True)
                if again["key"] == r["key"] and not again["collateral"]:
                    break
    not_reached = []
    counts = occurrences(clean["calls"])
    for role, syscall, n in start_path(clean["calls"], generation) if retry else ():
        if one_sided(sides, role):
            continue  # compared with nothing: its planned runs show what it does
        for err in SWEPT[syscall]:
            if unreachable(sides, role):
                not_reached.append({"role": role, "errno": err, "why": unreachable(sides, role)})
                continue
            if (syscall, err) not in wanted or any(r["key"] == role and r["errno"] == err for r in runs):
                continue
            done = {(r["syscall"], r["when"], r["errno"]) for r in runs}
            top = max(n, counts.get(syscall, 0)) + RETRIES  # the call may be another thread's, numbered as its
            window = sorted(range(1, top + 1), key=lambda k: abs(k - n))
            tried = [k for k in window if (syscall, k, err) not in done] + window * (PASSES - 1)
            if not any(run((syscall, k, err), retried=True)["key"] == role for k in tried):
                why = f"{syscall} when=1 to {top}, {PASSES} times: another call failed first, or none"
                not_reached.append({"role": role, "errno": err, "why": why})
    problem = None if generation else f"no sh was started in the clean run ({clean['status']})"
    return {"name": lc.name, "argv": list(lc.argv), "about": lc.about, "not_run": problem,
            "clean": {k: clean[k] for k in ("stdout", "stderr", "status", "left")},
            "occurrences": occurrences(clean["calls"]), "child_generation": generation, "runs": runs,
            "not_reached": not_reached}  # fmt: skip


def _all_one_sided(roles: set[str], sides: tuple[str, ...]) -> bool:
    return all(one_sided(("go",), r) or one_sided(sides, r) for r in roles)


def strategy_of(name: str) -> str:
    """py-subreaper, maps-py-subreaper -> subreaper; the port's other launchers run RAW_CLONE."""
    return next((s for s in ("subreaper", "relay") if name.endswith(f"py-{s}")), "raw-clone")


def _alias(strategy: str, role: str) -> tuple[str, str]:
    """The Go role a strategy's role stands for, and why (role itself and "" when it is Go's)."""
    return next(((go, why) for s, port, go, why in ALIASES if s == strategy and port == role), (role, ""))


def one_sided(sides: tuple[str, ...], role: str) -> str | None:
    return next((why for s, pattern, why in ONE_SIDED if s in sides and re.search(pattern, role)), None)


def _declared(strategy: str, role: str, err: str) -> str | None:
    return next((why for s, pattern, e, why in DECLARED
                 if s in ("port", strategy) and re.search(pattern, role) and e in ("", err)), None)  # fmt: skip


OUTCOME = ("stdout", "stderr", "status")
TRACEBACK = "Traceback (most recent call last)"  # never an outcome of the port, one-sided or not


def _go_role(strategy: str | None, role: str) -> str:
    return role if strategy is None else _alias(strategy, role)[0]


def _by_key(runs: list[dict], strategy: str | None) -> dict[tuple[str, str], dict]:
    """For each (role, errno), the first run whose key is that role, one that failed nothing else preferred.

    A run's key is the first call strace failed that the other side makes too (a call only one side makes,
    such as Go's runtime prctl, failed before it is passed over); its collateral, the other calls of the
    launcher and the child failed by the same when= (one process's later call, or Go's goroutine on another
    thread, whose own count the same N reaches). Roles as Go's (ALIASES)."""
    keyed = {}
    for r in runs:
        if r["key"] is None:
            continue
        key = (_go_role(strategy, r["key"]), r["errno"])
        if key not in keyed or len(r["collateral"]) < len(keyed[key]["collateral"]):
            keyed[key] = r
    return keyed


def compare(launchers: list[dict]) -> dict:
    """Line each port launcher's runs up with the reference's by (role, errno)."""
    ref, comparisons = launchers[0], []
    go_keys = _by_key(ref["runs"], None)
    for run in launchers[1:]:
        strategy = strategy_of(run["name"])
        sides = ("port", strategy)
        port_keys = _by_key(run["runs"], strategy)
        rows = []
        for key in dict.fromkeys([*go_keys, *port_keys]):
            role, err = key
            g, p = go_keys.get(key), port_keys.get(key)
            row = {"role": role, "errno": err, "go": _brief(g), "port": _brief(p), "why": "", "state": "", "alias": ""}
            if p is not None and p["key"] != role:
                row["alias"] = f"{p['key']}: {_alias(strategy, p['key'])[1]}"
            missing = ref if g is None else run
            names = {role} if g is None else {role, *(a[1] for a in ALIASES if a[0] == strategy and a[2] == role)}
            differ = g is not None and p is not None and not all(g[k] == p[k] for k in OUTCOME)
            others = (g, p) if differ else ()
            if differ:
                others = (sorted(g["collateral"]), sorted(_go_role(strategy, x) for x in p["collateral"]))
            if (g is None or p is None) and any(
                m["role"] in names and m["errno"] == err for m in missing["not_reached"]
            ):
                why = unreachable(("go",) if g is None else sides, role)
                row["state"], row["why"] = ("unreachable", why) if why else ("not reached", f"{missing['name']}: "
                                                                             "never failed first")  # fmt: skip
            elif g is None or p is None:
                why = one_sided(("go",), role) if p is None else one_sided(sides, p["key"])
                row["state"], row["why"] = (
                    ("one-sided", why)
                    if why
                    else ("divergence", "only one side makes this call, and no reason is declared")
                )
            elif differ and others[0] != others[1] and _all_one_sided(set(others[0]) ^ set(others[1]), sides):
                extra = "; ".join(sorted(set(others[0]) ^ set(others[1])))
                row["state"] = "unreachable"
                row["why"] = (f"the same when= also fails {extra}, which only one side makes: strace's per-process "
                              "count cannot fail this call alone there")  # fmt: skip
            elif differ and others[0] != others[1]:
                row["state"] = "not reached"
                go_too, port_too = ("; ".join(o) or "none" for o in others)
                row["why"] = (f"strace failed other calls too, not the same on both sides: {ref['name']}: {go_too}; "
                              f"{run['name']}: {port_too}")  # fmt: skip
            else:
                same = all(g[k] == p[k] for k in OUTCOME)
                why = _declared(strategy, role, err)
                if same:
                    row["state"] = "stale" if why else "identical"
                    row["why"] = f"declared ({why}), but the outcomes are now the same" if why else ""
                else:
                    row["state"], row["why"] = ("declared", why) if why else ("divergence", "")
            if p is not None and TRACEBACK in p["stderr"]:
                row["state"] = "divergence"
                row["why"] = (row["why"] + "; " if row["why"] else "") + "the port ended in a Python traceback"
            for side in (g, p):
                if side is not None and side["left"]:
                    row["state"] = "divergence"
                    row["why"] = (row["why"] + "; " if row["why"] else "") + "something was left behind"
            rows.append(row)
        problem = "; ".join(f"{r['name']}: {r['not_run']}" for r in (ref, run) if r["not_run"])
        comparisons.append({"reference": ref["name"], "port": run["name"], "strategy": strategy, "rows": rows,
                            "not_verified": problem or None})  # fmt: skip
    return {"launchers": launchers, "comparisons": comparisons}


def _brief(r: dict | None) -> dict | None:
    if r is None:
        return None
    return {k: r[k] for k in ("syscall", "when", "errno", "roles", "key", "collateral", "stdout", "stderr", "status",
                              "left")}  # fmt: skip


# --- verdict and views ----------------------------------------------------------------

MARK = {"identical": "✓", "declared": "≈", "one-sided": "◐", "unreachable": "◌", "divergence": "✗", "stale": "✗",
        "not reached": "?"}  # fmt: skip


def counts(result: dict) -> dict:
    rows = [r for c in result["comparisons"] for r in c["rows"]]
    states = [r["state"] for r in rows]
    runs = sum(len(lc["runs"]) for lc in result["launchers"])
    return {"injections": runs, "compared": len(rows), "identical": states.count("identical"),
            "declared": states.count("declared"), "one-sided": states.count("one-sided"),
            "divergences": states.count("divergence") + states.count("stale"),
            "not reached": states.count("not reached"), "unreachable": states.count("unreachable"),
            "left behind": sum(bool(r["left"]) for lc in result["launchers"] for r in lc["runs"])}  # fmt: skip


def make_verdict(result: dict, meta: dict | None = None) -> dict:
    n = counts(result)
    bad = [r for c in result["comparisons"] for r in c["rows"] if r["state"] in ("divergence", "stale")]
    differences = [f"{c['port']}: {r['role']} {r['errno']}: {r['why'] or 'the outcomes differ'}"
                   for c in result["comparisons"] for r in c["rows"] if r in bad]  # fmt: skip
    not_verified = [{"where": c["port"], "reason": c["not_verified"]} for c in result["comparisons"]
                    if c["not_verified"]]  # fmt: skip
    not_verified += [{"where": f"{c['port']}: {r['role']} {r['errno']}", "reason": r["why"]}
                     for c in result["comparisons"] for r in c["rows"] if r["state"] == "not reached"]  # fmt: skip
    summary = (f"{n['injections']} injections; {n['compared']} (role, errno) results: {n['identical']} identical, "
               f"{n['declared']} declared, {n['one-sided']} on one side only (declared), "
               f"{n['unreachable']} unreachable by strace (declared), {n['divergences']} divergences, "
               f"{n['not reached']} not reached; "
               f"{n['left behind']} runs left something behind")  # fmt: skip
    state = verdict.decide(n["compared"], len(bad), len(not_verified))
    return verdict.make(state, summary, n, meta, differences=differences, not_verified=not_verified)


def report(result: dict, meta: dict | None = None) -> dict:
    return {"verdict": make_verdict(result, meta), "meta": meta or {}, "swept": {k: list(v) for k, v in SWEPT.items()},
            "not_swept": NOT_SWEPT, **result}  # fmt: skip


def _outcome(side: dict | None) -> str:
    if side is None:
        return "-"
    parts = [side["status"]]
    if side["stdout"]:
        parts.append(f"stdout: {side['stdout']!r}")
    if side["stderr"]:
        parts.append(f"stderr: {side['stderr']!r}")
    if side["left"]:
        parts.append(f"LEFT BEHIND: {'; '.join(side['left'])}")
    return " · ".join(parts)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ⏎ ")


def markdown(result: dict, meta: dict | None = None) -> str:
    v = make_verdict(result, meta)
    head = templates().get_template("_verdict.md").render(verdict=v, verdict_mark=verdict.VERDICT_MARK)
    out = ["# A syscall fault sweep of the start path, Go beside the port", "", head.rstrip("\n"), "",
           f"Legend: {LEGEND}.", "", ABOUT, "", "## Swept syscalls and errnos", "", "| syscall | errnos |", "|---|---|",
           *(f"| `{s}` | {', '.join(e)} |" for s, e in SWEPT.items()), "", "Not swept:", "",
           *(f"- `{s}`: {why}" for s, why in NOT_SWEPT.items()), "", "## Launchers", "",
           "| launcher | clean run | occurrences swept (most by one process) | injections | not reached |",
           "|---|---|---|---|---|"]  # fmt: skip
    for lc in result["launchers"]:
        occ = ", ".join(f"{s} ×{n}" for s, n in lc["occurrences"].items())
        missed = "; ".join(f"{m['role']} {m['errno']}" for m in lc["not_reached"]) or "none"
        out.append(f"| {lc['name']} | {_md(_outcome(lc['clean']))} | {occ} | {len(lc['runs'])} | {_md(missed)} |")
    for c in result["comparisons"]:
        ref = c["reference"]
        out += ["", f"## {ref} beside {c['port']}", "",
                f"| | role | errno | {ref} | {c['port']} | why |", "|---|---|---|---|---|---|"]  # fmt: skip
        for r in c["rows"]:
            why = r["why"] + (f" (as {r['alias']})" if r.get("alias") else "")
            out.append(f"| {MARK[r['state']]} | {_md(r['role'])} | {r['errno']} | {_md(_outcome(r['go']))} | "
                       f"{_md(_outcome(r['port']))} | {_md(why)} |")  # fmt: skip
    if meta:
        out += ["", "## Run", "", "| | |", "|---|---|", *(f"| {k} | {_md(val)} |" for k, val in meta.items())]
    return "\n".join(out) + "\n"


LEGEND = ("✓ identical stdout, stderr and status, nothing left behind · ≈ a declared difference (reason shown; "
          "it still occurs) · ◐ a call only one side makes (reason shown) · ◌ a call strace's per-process count "
          "cannot fail first (reason shown) · ? a call no run failed first (not verified) · ✗ a divergence: "
          "different outcomes with no reason, a call only one side makes with no reason, a declared difference "
          "that no longer occurs, a Python traceback, or something left behind")  # fmt: skip
ABOUT = ("Made by `make faults` (scripts/faults.py): each launcher runs the notes program under `strace -f` "
         f"with `{STDIN.decode().strip()}` on stdin. A clean run says which swept syscalls the start makes and "
         "how often one process makes each; then one run per syscall, occurrence N and errno, "
         "`strace -f --inject=SYSCALL:error=ERRNO:when=N`, fails the Nth such call of each process. A result is "
         "keyed by the role of the first call that failed (strace marks it INJECTED), so Go's runtime threads "
         "and the port's middle process do not shift the numbers. Dates and times of the log line are masked. "
         "After each run, the host guard: no process carrying the run's marker in its environment (with it the "
         "descriptors and namespaces only a live process holds), mounts, IPC objects, links and hostname as "
         "before.")  # fmt: skip


def text(result: dict, meta: dict | None = None, width: int = 80) -> list[tuple[str, str]]:
    wrap = verdict.wrap
    v = make_verdict(result, meta)
    out = [(line, verdict.STYLE[v["state"]]) for line in wrap(verdict.headline(v), width, "    ", "")]
    if meta:
        out += [(line, "dim") for line in wrap(verdict.run_line(meta), width, "    ", "")]
    out.append(("", ""))
    for c in result["comparisons"]:
        ref = c["reference"]
        states = [r["state"] for r in c["rows"]]
        out.append((f"{c['port']} beside {ref}: " + ", ".join(f"{states.count(s)} {s}" for s in MARK
                                                             if states.count(s)), "bold"))  # fmt: skip
        for r in c["rows"]:
            if r["state"] in ("divergence", "stale"):
                head = f"{r['role']} {r['errno']}: {r['why'] or 'outcomes differ'}"
                out += [(line, "bold red") for line in wrap(head, width, "      ", "  ✗ ")]
                out += wrap(f"{ref}: {_outcome(r['go'])}", width, "      ", "    ")
                out += wrap(f"{c['port']}: {_outcome(r['port'])}", width, "      ", "    ")
    return [(line, "") if isinstance(line, str) else line for line in out]


def html(result: dict, meta: dict | None = None) -> str:
    env = templates()
    env.filters["outcome"] = _outcome
    return env.get_template("faults.html.j2").render(
        result=result,
        verdict=make_verdict(result, meta),
        meta=meta or {},
        mark=MARK,
        legend=LEGEND,
        about=ABOUT,
        swept=SWEPT,
        not_swept=NOT_SWEPT,
        title="nsport: a syscall fault sweep of the start path",
    )


def parse_only(text: str) -> list[tuple[str, int, str]]:
    """ "clone:6:EAGAIN,execve:1:ENOENT" -> the faults it names; ValueError with one clear line otherwise."""
    out = []
    for item in re.split(r"[,\s]+", text.strip()):
        parts = item.split(":")
        if len(parts) != 3 or parts[0] not in SWEPT or not parts[1].isdigit() or parts[2] not in SWEPT[parts[0]]:
            raise ValueError(f"--only: {item!r} is not SYSCALL:N:ERRNO with a swept syscall and one of its errnos")
        out.append((parts[0], int(parts[1]), parts[2]))
    return out
