"""A test that names a strategy runs that strategy, or fails (conftest's pytest_pyfunc_call uses this).

Under xdist every worker has execnet's thread, so rawclone.unusable() holds and
fork_exec would quietly take SUBREAPER for RAW_CLONE: such a test is re-run alone
in a fresh single-threaded pytest, and every start of a test that names a
strategy must take it (strict_starts).
"""

import os

import pytest

from port import exec_linux

ALONE = "NSPORT_RAW_CLONE_ALONE"  # set in the single-threaded pytest a RAW_CLONE test is re-run in


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


def run_alone(item, why: str) -> None:
    """Run item alone in a fresh pytest without xdist (one thread), and take its outcome as this one's."""
    import subprocess
    import sys

    from tests.support.paths import ROOT

    argv = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q", "-rsx", item.nodeid]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "XDIST_"))} | {ALONE: "1"}
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if proc.returncode == 0 and " passed" in last:
        return
    if proc.returncode == 0 and " skipped" in last:
        reasons = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
        pytest.skip(f"in a single-threaded pytest (here: {why}): {' '.join(reasons) or last}")
    pytest.fail(f"run alone in a single-threaded pytest (here: {why}), the test failed:\n{proc.stdout}{proc.stderr}")
