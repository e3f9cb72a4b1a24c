"""The verdict every view starts with, and what the terminal views share.

A run ends in one of four states; every report's JSON starts with it as
`verdict`, and the scripts exit with its status:

    match          every comparison was made and agrees (a launcher's declared
                   differences, shown with their reasons, included)            exit 0
    differs        a comparison was made and differs unexpectedly              exit 1
    not verified   some comparisons could not be made: a probe, a fact or a
                   configuration did not run for the reference or for a
                   launcher; each is named with the reason, never counted as
                   a match                                                     exit 2
    could not run  no comparison could be made at all                         exit 2

A measured difference outranks what could not run: the run differs whatever
else was not verified. A bad command line or a missing tool also exits 2.
"""

import os
import re
import sys
import textwrap

MATCH, DIFFERS, NOT_VERIFIED, COULD_NOT_RUN = "match", "differs", "not verified", "could not run"
STATES = (MATCH, DIFFERS, NOT_VERIFIED, COULD_NOT_RUN)
EXIT = {MATCH: 0, DIFFERS: 1, NOT_VERIFIED: 2, COULD_NOT_RUN: 2}
# The verdict's own mark, and the one each cell of a view carries (text, not only colour).
VERDICT_MARK = {MATCH: "✓", DIFFERS: "✗", NOT_VERIFIED: "?", COULD_NOT_RUN: "✗"}
STYLE = {MATCH: "bold green", DIFFERS: "bold red", NOT_VERIFIED: "bold magenta", COULD_NOT_RUN: "bold red"}


def decide(compared: int, differs: int, not_verified: int) -> str:
    """The state of a run of `compared` comparisons, `differs` of them differing, `not_verified` not made."""
    if differs:
        return DIFFERS
    if compared == 0 or not_verified >= compared:
        return COULD_NOT_RUN
    return NOT_VERIFIED if not_verified else MATCH


def make(state: str, summary: str, counts: dict, meta: dict | None = None, *, differences: list[str] = (),
         not_verified: list[dict] = ()) -> dict:  # fmt: skip
    """The `verdict` object of a report's JSON: state, exit status, one line, counts, and the run."""
    meta = meta or {}
    return {
        "state": state,
        "exit": EXIT[state],
        "summary": summary,
        "counts": counts,
        "differences": list(differences),
        "not_verified": list(not_verified),  # each {"where", "reason"}
        "commit": meta.get("git commit", ""),
        "kernel": meta.get("kernel", ""),
        "date": meta.get("date", ""),
    }


def could_not_run(what: str, reason: str, meta: dict | None = None) -> dict:
    """The verdict of a run that compared nothing (a launcher or tool missing, no session)."""
    return make(COULD_NOT_RUN, f"{what} could not run: {reason}", {}, meta,
                not_verified=[{"where": what, "reason": reason}])  # fmt: skip


def refuse(what: str, reason: str) -> int:
    """A script that cannot run: its verdict's headline on stderr, and the exit status to return."""
    print(headline(could_not_run(what, reason)), file=sys.stderr)
    return EXIT[COULD_NOT_RUN]


def headline(v: dict) -> str:
    """The verdict as its first line: mark, state, summary."""
    return f"{VERDICT_MARK[v['state']]} {v['state'].upper()}: {v['summary']}"


def run_line(meta: dict) -> str:
    """The run in one line: date, kernel, commit, user."""
    keys = ("date", "kernel", "git commit", "user")
    return "run: " + " · ".join(str(meta[k]) for k in keys if meta.get(k))


def reasons(items: list[dict]) -> str:
    """`(where: reason; ...)` for a verdict line, each reason once."""
    seen = dict.fromkeys(f"{i['where']}: {i['reason']}" for i in items)
    return "; ".join(seen)


# --- the terminal -------------------------------------------------------------------


class _Wrapper(textwrap.TextWrapper):
    """Breaks between words, and after a `|` or `,` inside one (CLONE_NEWIPC|CLONE_NEWNET, ipc,mnt,net);
    a piece longer than a line is cut with …, never broken."""

    room = 80

    def _split(self, text: str) -> list[str]:
        chunks = []
        for chunk in re.split(r"(\s+)", text):
            if chunk.isspace():
                chunks.append(" ")
            elif chunk:
                pieces = [piece for piece in re.split(r"(?<=[|,])", chunk) if piece]
                chunks += [piece if len(piece) <= self.room else piece[: self.room - 1] + "…" for piece in pieces]
        return chunks


def wrap(text: str, width: int, indent: str = "", first: str | None = None) -> list[str]:
    """text in lines of at most width, broken between words only; a word longer than a line is cut with …."""
    first = indent if first is None else first
    lead = max(len(indent), len(first))
    room = max(12, width - lead)
    wrapper = _Wrapper(width=room + lead, initial_indent=first, subsequent_indent=indent, break_long_words=False,
                       break_on_hyphens=False)  # fmt: skip
    wrapper.room = room
    return wrapper.wrap(" ".join(str(text).split())) or [first.rstrip()]


def want_wide(console_width: int, wide: bool | None) -> bool:
    """The full grid: asked for, or a terminal of at least 120 columns."""
    return wide if wide is not None else console_width >= 120


def is_tty(stream=None) -> bool:
    stream = stream or sys.stdout
    return stream.isatty() and os.environ.get("TERM") != "dumb"
