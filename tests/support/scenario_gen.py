"""os/exec scenarios generated with hypothesis, for tests/test_scenarios.py and make fuzz.

A scenario is a template (a command and the calls made on it, chosen so that
the transcript does not depend on timing: a Write only to a `cat`, a Kill only
of a `sleep`) with everything else drawn freely: each std stream's kind,
ExtraFiles, Dir (a NUL, a missing directory), SysProcAttr and the context.
Timing enters only where its outcome is fixed: a context cancelled during a
run of `sleep 10` (killed, whoever cancels), a Cancel that returns an
error, and one that kills nothing, with WaitDelay to end the wait.
"""

from hypothesis import strategies as st

SHELL_FDS = "for fd in 0 1 2 3 4; do if (: 9<&$fd) 2>/dev/null; then echo $fd open; else echo $fd closed; fi; done"
# (args, calls, quiet): quiet when the command writes each stream at most once, so a writer that
# fails (short, error) cannot race the child's next write (Go closes the pipe: SIGPIPE, or not yet).
TEMPLATES = (
    (["true"], ["Run"], True),
    (["false"], ["Run"], True),
    (["echo", "hello"], ["Output"], True),
    (["sh", "-c", "echo out; echo err >&2; exit 3"], ["CombinedOutput"], True),
    (["sh", "-c", "echo out; echo err >&2"], ["Start", "Wait", "Wait"], True),
    (["cat"], ["Run"], False),
    (["cat"], ["StdinPipe", "StdoutPipe", "Start", "Write:abc", "CloseStdin", "ReadAll", "Wait", "CloseStdout"], False),
    (["cat"], ["StdinPipe", "Start", "CloseStdin", "CloseStdin", "Write:x", "Wait"], False),
    (["echo", "hi"], ["StdoutPipe", "Start", "ReadAll", "Wait", "Read:1", "CloseStdout"], True),
    (["sh", "-c", "echo hi; echo there >&2"], ["Start", "ProcessWait", "Wait"], True),
    (["sleep", "10"], ["Start", "ProcessKill", "Wait"], True),
    (["no-such-command-xyz"], ["String", "Run"], True),
    (["/nonexistent/x"], ["Start", "Wait"], True),
    (["sh", "-c", SHELL_FDS], ["CombinedOutput"], False),
    (["sh", "-c", SHELL_FDS + " >&2"], ["Run"], False),
    (["true"], ["Wait", "Start", "Start", "Wait"], True),
    (["sh", "-c", "echo $A $B"], ["Environ", "CombinedOutput"], True),
    # Cancellation during a run: the context is cancelled by the call Cancel (ctx "cancellable").
    (["sleep", "10"], ["Start", "Cancel", "Wait"], True),
    (["sleep", "10"], ["Start", "Cancel", "Cancel", "ProcessWait", "Wait"], True),
    (["sleep", "10"], ["Cancel", "Run"], True),
)
# Cmd.Cancel replaced: "error" kills, then returns an error; "noop" kills nothing, so WaitDelay must.
CANCEL_KINDS = ("", "error", "noop")
STDIN_KINDS = ("nil", "reader:abc", "devnull", "closed")
WRITER_KINDS = ("nil", "buffer", "short", "error", "devnull", "closed")
FILE_KINDS = ("nil", "devnull", "closed")
DIRS = ("", "/", "a\0b", "/nonexistent", "/tmp/..//")
# Cmd.Env: inherited, duplicates (the last wins) with an entry without "=" and one keyed "=C", a NUL.
ENVS = (None, ("A=1", "A=2", "B", "=C=3"), ("A=x\0y", "B=2"))


@st.composite
def scenarios(draw) -> dict:
    args, calls, quiet = draw(st.sampled_from(TEMPLATES))
    s = {"args": list(args), "calls": list(calls)}
    # A failing writer only where the child cannot write again after the copy stopped: a quiet
    # command whose stdout is not closed (sh then writes its complaint to stderr in pieces);
    # a closed stdout only for a quiet command (GNU cat stops at once, racing a Write).
    safe = ("nil", "buffer", "devnull")
    stdin = draw(st.sampled_from(STDIN_KINDS))
    stdout = draw(st.sampled_from(WRITER_KINDS if quiet else safe))
    stderr = draw(st.sampled_from(WRITER_KINDS if quiet and stdout != "closed" else (*safe, "closed")))
    if stdout in ("short", "error") and stderr in ("short", "error"):
        # Two failing copies: which fails first is a race (Go keeps the first), and one failing
        # writer for both (Go's equal interfaces share a pipe) races the second write with the close.
        stderr = "nil"
    for name, kind in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr)):
        if kind != "nil":
            s[name] = kind
    if extra := draw(st.lists(st.sampled_from(FILE_KINDS), max_size=2)):
        s["extra_files"] = extra
    if (env := draw(st.sampled_from(ENVS))) is not None:
        s["env"] = list(env)
    if d := draw(st.sampled_from(DIRS)):
        s["dir"] = d
        if "\0" in d and draw(st.booleans()):
            s["env"] = ["A=1"]  # else PWD=Dir carries the NUL and fails first, as Go's does
    if (sys := draw(st.sampled_from((None, {}, {"setpgid": True})))) is not None:
        s["sys"] = sys
    if "Cancel" in calls:
        s["ctx"] = "cancellable"
        if kind := draw(st.sampled_from(CANCEL_KINDS)):
            s["cancel"] = kind
        if kind == "noop" or draw(st.booleans()):
            s["wait_delay_ms"] = draw(st.sampled_from((50, 200)))
    elif ctx := draw(st.sampled_from(("", "background", "cancelled"))):
        s["ctx"] = ctx
    return s
