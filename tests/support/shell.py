"""Drive one interactive sh under a launcher in a real pty, with pexpect.

    with ShellSession(GO) as sh:
        out, rc = sh.run("hostname")

The prompt is a unique sentinel that also carries $? (dash expands PS1), so
one round trip gives a command's output and status. The quotes split in the
PS1 assignment keep the sentinel out of the tty's echo of that line. Every
session is torn down, even when a test fails: the shell is killed by the pid
it has on the host, never by name.
"""

import fcntl
import io
import os
import re
import shutil
import signal
import struct
import termios
import uuid

import pexpect
import ptyprocess

from tests.support import procfs
from tests.support.closing import Closing
from tests.support.launchers import Launcher

# Go's log header (LstdFlags); the only part of the launchers' output that varies.
LOG_TIME = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ", re.M)


def transcript(pty_text: str) -> str:
    """pty output with CRLF as LF and log times replaced by a fixed marker."""
    return LOG_TIME.sub("YYYY/MM/DD hh:mm:ss ", pty_text.replace("\r\n", "\n"))


SETSID = shutil.which("setsid") or "setsid"  # util-linux


class _Spawn(pexpect.spawn):
    """pexpect.spawn whose child starts by posix_spawn (glibc's vfork) rather than a fork of
    this process: forking an xdist worker, then running ptyprocess's Python steps in the child,
    costs about 10 ms of CPU a session, against 2.4 ms this way (about 210 sessions a run).

    What ptyprocess's child does before exec, done here instead: the pty's size and echo are
    set on its slave side first; `setsid --ctty` makes the command a session leader whose
    controlling tty is the pty; every descriptor but 0, 1 and 2 is closed (the non-inheritable
    ones by execve, the others by a close action each). SIGPIPE and SIGXFSZ go back to SIG_DFL:
    CPython ignores both, ignored dispositions survive execve, and a login shell has neither
    ignored (subprocess's restore_signals; pexpect would keep them ignored)."""

    def _spawnpty(self, args, env=None, cwd=None, echo=True, preexec_fn=None, dimensions=(24, 80)):
        assert cwd is None and preexec_fn is None, "not supported: spawn() takes neither"
        master, slave = os.openpty()  # both non-inheritable
        try:
            rows, cols = dimensions
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            if not echo:
                attrs = termios.tcgetattr(slave)
                attrs[3] &= ~termios.ECHO
                termios.tcsetattr(slave, termios.TCSANOW, attrs)
            actions = [(os.POSIX_SPAWN_DUP2, slave, fd) for fd in (0, 1, 2)]
            actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable() if fd > 2]
            pid = os.posix_spawn(SETSID, [SETSID, "--ctty", *args], os.environ if env is None else env,
                                 file_actions=actions, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))  # fmt: skip
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        proc = ptyprocess.PtyProcess(pid, master)
        proc.argv = args
        return proc


def _inheritable() -> list[int]:
    """This process's descriptors that an execve would keep open."""
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.get_inheritable(int(name)):
                fds.append(int(name))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return fds


def spawn(argv: tuple[str, ...] | list[str], timeout: float, **kwargs) -> pexpect.spawn:
    """pexpect.spawn with no sleeps of its own: none before each send, none on close."""
    child = _Spawn(argv[0], list(argv[1:]), encoding="utf-8", echo=False, timeout=timeout, **kwargs)
    child.delaybeforesend = None
    # ptyprocess sleeps 0.1 s in close() "to give the kernel time"; reap() and
    # kill() have already waited for the child, so there is nothing to wait for.
    child.ptyproc.delayafterclose = 0
    return child


def reap(child: pexpect.spawn) -> None:
    """Wait for a child that has reached EOF, then close its pty."""
    child.wait()
    child.close()


def kill(child: pexpect.spawn) -> None:
    """Tear down a child that may still run: SIGKILL by its pid, reap, close."""
    if child.isalive():
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()
    child.close()


class SessionError(AssertionError):
    """A session did not answer as expected; the message holds the transcript.

    `timed_out`: no answer in time (nothing was measured); else the shell or
    the launcher ended (end of file), which is itself what a probe saw.
    """

    def __init__(self, message: str, timed_out: bool = False, last_line: str = ""):
        super().__init__(message)
        self.timed_out = timed_out
        self.last_line = last_line  # the transcript's last line: a launcher's error, say


class ShellSession(Closing):
    def __init__(self, launcher: Launcher, env: dict[str, str] | None = None, timeout: float = 10):
        self.launcher = launcher
        self.env = env
        self.timeout = timeout
        self.tag = uuid.uuid4().hex[:8]
        self.prompt = re.compile(rf"\[NSPROMPT-{self.tag} rc=(\d+)\]\$ ")
        self.transcript = io.StringIO()
        self.banner = ""  # what the launcher printed before the first prompt
        self.sh_pid: int | None = None  # the shell's pid on the host
        self.child: pexpect.spawn | None = None
        self.ending = ""  # what came after "exit", with log times masked
        self.exitstatus: int | None = None
        self.signalstatus: int | None = None

    def start(self) -> None:
        self.child = spawn(self.launcher.argv, self.timeout, env=self.env, dimensions=(24, 500))
        self.child.logfile_read = self.transcript
        self._expect(["$ ", "# "], exact=True)
        self.banner = self.child.before.replace("\r\n", "\n")
        self.sh_pid = procfs.wait_for_descendant(self.child.pid, "sh")
        self.child.sendline(f"PS1='[NS''PROMPT-{self.tag} rc=$?]$ ' PS2=''")
        self._expect(self.prompt)

    def run(self, command: str) -> tuple[str, int]:
        """Send one command; return its output and status.

        A command of several lines goes as one brace group, so that the shell
        reads all of it before it runs any (PS2 is empty: no "> " in between).
        """
        command = command.strip()
        if "\n" in command:
            command = "{\n" + command + "\n}"
        self.child.sendline(command)
        self._expect(self.prompt)
        return self.child.before.replace("\r\n", "\n"), int(self.child.match.group(1))

    def exit(self, command: str = "exit", kill: int = 0) -> str:
        """End the shell with command, or with signal kill sent from the host to
        its pid (inside, PID 1 is immune even to SIGKILL); return what followed,
        log times masked."""
        if kill:
            os.kill(self.sh_pid, kill)
        else:
            self.child.sendline(command)
        self._expect(pexpect.EOF)
        self.ending = transcript(self.child.before)
        reap(self.child)
        self.exitstatus, self.signalstatus = self.child.exitstatus, self.child.signalstatus
        return self.ending

    def close(self) -> None:
        """Tear down whatever is left: the shell by its host pid, then the launcher."""
        if self.child is None or self.child.closed:
            return
        if self.child.isalive() and self.sh_pid is not None and procfs.comm(self.sh_pid) == "sh":
            try:
                os.kill(self.sh_pid, signal.SIGKILL)
                # Let the launcher reap its shell and end: killed at once, it
                # would leave the shell, still dying, to pytest as an orphan.
                self.child.expect(pexpect.EOF, timeout=self.timeout)
            except (ProcessLookupError, pexpect.TIMEOUT):
                pass
        kill(self.child)

    def _expect(self, pattern, exact: bool = False) -> int:
        try:
            if exact:
                return self.child.expect_exact(pattern)
            return self.child.expect(pattern)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            text = transcript(self.transcript.getvalue())
            last = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")
            raise SessionError(
                f"{self.launcher.name}: waiting for {pattern!r}: {type(e).__name__}\n--- transcript\n{text}",
                timed_out=isinstance(e, pexpect.TIMEOUT),
                last_line=last,
            ) from None
