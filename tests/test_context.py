"""port/context.py keeps Go's context rules: derived contexts, deadline against cancel, first error wins.

Go's documentation of package context is the reference: a derived context is done when its parent
is (with the parent's error) or when its own cancel or deadline comes, whichever is first, and its
error never changes after that; cancelling a child leaves the parent alone; a context derived from
one already done is done at once; cancelling releases the deadline's timer; a pending timer does
not keep the program from exiting. Each test takes milliseconds.
"""

import subprocess
import sys
import threading
import time

from port import context
from port.errors import GoError
from tests.support.paths import ROOT

CANCELED, DEADLINE = "context canceled", "context deadline exceeded"


def test_cancel_makes_it_done_with_gos_error():
    ctx, cancel = context.with_cancel()
    assert (ctx.done(), ctx.err(), ctx.wait(0)) == (False, None, False)
    cancel()
    assert ctx.done() and ctx.wait(0)
    assert isinstance(ctx.err(), context.ContextError) and isinstance(ctx.err(), GoError)
    assert str(ctx.err()) == CANCELED
    first = ctx.err()
    cancel()  # Go: "After the first call, subsequent calls to a CancelFunc do nothing."
    assert ctx.err() is first


def test_background_is_never_done():
    ctx = context.background()
    assert (ctx.done(), ctx.err(), ctx.wait(0.01)) == (False, None, False)


def test_a_child_follows_its_parent_with_the_parents_error():
    parent, cancel_parent = context.with_cancel()
    child, _ = context.with_cancel(parent)
    grandchild, _ = context.with_timeout(60, child)
    cancel_parent()
    for ctx in (child, grandchild):
        assert ctx.done() and str(ctx.err()) == CANCELED


def test_cancelling_a_child_leaves_its_parent():
    parent, _ = context.with_cancel()
    child, cancel_child = context.with_cancel(parent)
    sibling, _ = context.with_cancel(parent)
    cancel_child()
    assert child.done() and not parent.done() and not sibling.done()
    assert parent.err() is None


def test_a_child_of_a_done_parent_is_done_at_once():
    parent, cancel_parent = context.with_cancel()
    cancel_parent()
    child, _ = context.with_cancel(parent)
    assert child.done() and str(child.err()) == CANCELED
    timed, _ = context.with_timeout(60, parent)
    assert timed.done() and str(timed.err()) == CANCELED  # the parent's error, not a deadline


def test_the_deadline_ends_it_with_deadline_exceeded():
    ctx, _ = context.with_timeout(0.01)
    assert ctx.wait(5)
    assert str(ctx.err()) == DEADLINE


def test_a_parents_deadline_reaches_the_child():
    parent, _ = context.with_timeout(0.01)
    child, cancel_child = context.with_cancel(parent)
    assert child.wait(5)
    assert str(child.err()) == DEADLINE
    cancel_child()  # too late: the first error stays
    assert str(child.err()) == DEADLINE


def test_a_shorter_child_deadline_leaves_the_parent():
    parent, _ = context.with_cancel()
    child, _ = context.with_timeout(0.01, parent)
    assert child.wait(5)
    assert str(child.err()) == DEADLINE and not parent.done()


def test_cancel_before_the_deadline_stays_canceled():
    ctx, cancel = context.with_timeout(0.05)
    cancel()
    time.sleep(0.1)  # past the deadline
    assert str(ctx.err()) == CANCELED


def test_cancel_releases_the_deadline_timer():
    """Go: "Canceling this context releases resources associated with it": the timer's thread ends."""
    before = {t.ident for t in threading.enumerate()}
    _, cancel = context.with_timeout(60)
    timers = [t for t in threading.enumerate() if t.ident not in before]
    assert len(timers) == 1 and timers[0].is_alive()  # the deadline is pending
    cancel()
    timers[0].join(5)
    assert not timers[0].is_alive()


def test_notify_sets_the_event_when_done_or_at_once():
    ctx, cancel = context.with_cancel()
    early, late = threading.Event(), threading.Event()
    ctx.notify(early)
    assert not early.is_set()
    cancel()
    assert early.is_set()
    ctx.notify(late)
    assert late.is_set()


def test_every_watcher_is_told():
    ctx, _ = context.with_timeout(0.01)
    events = [threading.Event() for _ in range(3)]
    for ev in events:
        ctx.notify(ev)
    assert all(ev.wait(5) for ev in events)


def test_a_pending_deadline_does_not_keep_the_program_alive():
    """Go's timers never hold a program's exit; a port child with a long deadline exits at once."""
    code = "from port import context; ctx, _ = context.with_timeout(30); print(ctx.done())"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=20)
    assert (proc.returncode, proc.stdout) == (0, "False\n")
    assert time.monotonic() - start < 10
