"""A test that names a strategy runs that strategy, or fails (conftest's pytest_pyfunc_call uses this).

Under xdist every worker has execnet's thread, so rawclone.unusable() holds and
fork_exec would quietly take SUBREAPER for RAW_CLONE: such a test's body runs in
a forked child of the worker (fork keeps only the calling thread), and every
start of a test that names a strategy must take it (strict_starts).
"""

import json
import os
import signal
import traceback

import pytest

from port import exec_linux


def named_strategies(item) -> set[str]:
    """The strategies a test starts in this process: the `strategy` fixture's parameter, or all of them for
    @pytest.mark.strategies. A `strategy` parametrized directly names a launcher's --strategy instead: that
    launcher is a fresh process, with no second thread."""
    if item.get_closest_marker("strategies"):
        return set(exec_linux.STRATEGIES)
    callspec = getattr(item, "callspec", None)
    named = callspec.params.get("strategy") if callspec else None
    direct = any(
        "strategy" in _argnames(m.args[0]) and not m.kwargs.get("indirect") for m in item.iter_markers("parametrize")
    )
    return {named} if named in exec_linux.STRATEGIES and not direct else set()


def _argnames(names) -> list[str]:
    return [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)


def strict_starts(mp: pytest.MonkeyPatch) -> None:
    """Make every Cmd start fail the test when fork_exec took another strategy than the one asked for."""
    from port import exec as port_exec

    real = port_exec.fork_exec

    def fork_exec(argv0, argv, attr):
        try:
            return real(argv0, argv, attr)
        finally:
            assert attr.strategy_taken == attr.strategy, (
                f"asked for {attr.strategy}, fork_exec took {attr.strategy_taken}: the test ran another strategy"
            )

    mp.setattr(port_exec, "fork_exec", fork_exec)


def run_forked(body, why: str) -> None:
    """Run body() in a forked child of this process and take its outcome as this test's.

    The child has one thread (fork copies only the caller), so it can raw-clone; glibc's fork
    makes malloc and stdio safe there, which a raw clone from a threaded process would not.
    Its processes left behind are re-parented to this one (pytest is a subreaper), so the
    host guard still sees them."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the body, write its outcome, never return into pytest
        os.close(r)
        outcome = {"outcome": "passed"}
        try:
            body()
        except pytest.skip.Exception as e:
            outcome = {"outcome": "skipped", "text": str(e)}
        except BaseException as e:  # noqa: BLE001 - every failure is this test's, reported by the parent
            outcome = {"outcome": "failed", "text": "".join(traceback.format_exception(e))}
        os.write(w, json.dumps(outcome).encode())
        os._exit(0)
    os.close(w)
    try:
        with os.fdopen(r, "rb") as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:  # interrupted (a timeout): the child must not outlive its test
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if not data:
        pytest.fail(f"the forked child (here: {why}) ended without an outcome: wait status {status:#x}")
    outcome = json.loads(data)
    if outcome["outcome"] == "skipped":
        pytest.skip(outcome["text"])
    if outcome["outcome"] == "failed":
        pytest.fail(f"in a forked single-threaded child (here: {why}):\n{outcome['text']}", pytrace=False)
