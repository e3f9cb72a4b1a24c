"""Go's context package, as much of it as exec.CommandContext needs.

    ctx, cancel = context.with_cancel()
    ctx, cancel = context.with_timeout(0.5)

A Context is done once cancelled or past its deadline; err() is then Go's
error text ("context canceled", "context deadline exceeded").
"""

import threading

from port.errors import GoError

CANCELED = "context canceled"
DEADLINE_EXCEEDED = "context deadline exceeded"


class ContextError(GoError):
    """Go: context.Canceled / context.DeadlineExceeded; str() is Go's text."""


class Context:
    def __init__(self, parent: "Context | None" = None):
        self._lock = threading.Lock()
        self._err: ContextError | None = None
        self._done = threading.Event()
        self._watchers: list[threading.Event] = []
        self._timer: threading.Timer | None = None
        if parent is not None:
            parent.notify(self._parent_done(parent))

    def _parent_done(self, parent: "Context") -> threading.Event:
        ev = _Callback(lambda: self._finish(parent.err()))
        return ev

    def _finish(self, err: "ContextError | None") -> None:
        with self._lock:
            if self._err is not None:
                return
            self._err = err
            watchers, self._watchers = self._watchers, []
        if self._timer is not None:
            self._timer.cancel()
        self._done.set()
        for ev in watchers:
            ev.set()

    def cancel(self) -> None:
        self._finish(ContextError(CANCELED))

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def err(self) -> "ContextError | None":
        return self._err

    def notify(self, ev: threading.Event) -> None:
        """Set ev once this context is done (at once if it already is)."""
        with self._lock:
            if self._err is None:
                self._watchers.append(ev)
                return
        ev.set()


class _Callback(threading.Event):
    def __init__(self, fn):
        super().__init__()
        self._fn = fn

    def set(self) -> None:
        super().set()
        self._fn()


def background() -> Context:
    return Context()


def with_cancel(parent: Context | None = None) -> tuple[Context, "callable"]:
    ctx = Context(parent)
    return ctx, ctx.cancel


def with_timeout(seconds: float, parent: Context | None = None) -> tuple[Context, "callable"]:
    ctx = Context(parent)
    ctx._timer = threading.Timer(seconds, lambda: ctx._finish(ContextError(DEADLINE_EXCEEDED)))
    ctx._timer.daemon = True
    ctx._timer.start()
    return ctx, ctx.cancel
