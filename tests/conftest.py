"""Fixtures shared by the whole suite: host safety, the fork guard, privileges."""

import ctypes
import gc
import os

import pytest

from port import exec_linux
from tests.support import hostguard, machine, markers, run_order, run_record, strategy_guard
from tests.support.launchers import GO, PAIR
from tests.support.signals import clean_signal_state


def pytest_configure(config):
    # Orphans (a shell whose launcher died) are re-parented to pytest instead
    # of init, so the leftover check sees them and can reap them. With ctypes,
    # not port.libc: the harness does not lean on the code under test, and
    # make mutants' map would count a call here as reaching port.libc in every
    # test (tests/support/mutants_map.py).
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    clean_signal_state()


PR_SET_CHILD_SUBREAPER = 36


def pytest_addoption(parser):
    run_record.addoption(parser)


def pytest_sessionfinish(session):
    run_record.finish(session)
    run_order.save(session.config)


def pytest_collection_modifyitems(config, items):
    run_order.reorder(config, items)


def pytest_collection_finish(session):
    run_order.UNGROUPED.update(run_order.check_groups(session))
    # What collection built (modules, items, their parameters) lives as long as the run: out of
    # the cyclic collector's reach, each later collection walks only what the tests make
    # (under perf, the collector was 2.5 % of all CPU samples of a run in the workers alone).
    gc.collect()
    gc.freeze()


@pytest.hookimpl(optionalhook=True)  # xdist's, on the controller
def pytest_configure_node(node):
    run_order.to_worker(node)


def pytest_runtest_logreport(report):
    run_order.record(report)


def pytest_sessionstart(session):
    run_record.start(session.config)
    if session.config.option.collectonly:  # the Makefile's bytecode step: nothing runs
        return
    if problem := machine.missing_for_tests():
        raise pytest.UsageError(problem)
    if not os.path.exists(GO.argv[0]):
        raise pytest.UsageError(f"{GO.argv[0]} is missing: run `make build` (or `make test`)")


@pytest.fixture(autouse=True)
def host_unchanged():
    """Fail the test if it changed the host or left a process behind."""
    me = os.getpid()
    before = hostguard.snapshot()
    yield
    assert os.getpid() == me, "Test runner has forked: a child returned into pytest before exec()"
    left = hostguard.leftovers(me)
    changes = hostguard.diff(before, hostguard.snapshot())
    assert not left, f"the test left processes behind (killed them): {left}"
    assert not changes, "the test changed the host:\n" + "\n".join(changes)


@pytest.fixture
def no_pidfd_open(monkeypatch):
    """This process as on a kernel without pidfd_open (before 5.3, or a seccomp filter refusing it)."""

    def refused(pid, flags=0):
        raise OSError(38, "Function not implemented")  # ENOSYS

    monkeypatch.setattr(os, "pidfd_open", refused)


@pytest.fixture(params=exec_linux.STRATEGIES)
def strategy(request):
    """Each way the port gets the child of a new PID namespace; an in-process test sets cmd.strategy."""
    return request.param


@pytest.fixture(params=PAIR, ids=lambda launcher: launcher.name)
def launcher(request):
    """Each of the two launchers every regression run compares."""
    return request.param


def pytest_runtest_setup(item):
    if item.nodeid in run_order.UNGROUPED:
        pytest.fail(run_order.UNGROUPED_WHY, pytrace=False)
    if reason := markers.skip_reason(item):
        pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """A test naming RAW_CLONE needs a process that can raw-clone. Under xdist every worker has
    execnet's thread, so rawclone.unusable() holds and fork_exec would take SUBREAPER instead: there
    the test body runs in a forked child, which has one thread (its outcome is this test's), and a
    child that still cannot raw-clone fails the test, naming why. Either way, every start of a test
    that names a strategy must take the strategy it asked for (strict_starts)."""
    named = strategy_guard.named_strategies(pyfuncitem)
    if not named:
        return None
    from port import rawclone

    def body():
        if exec_linux.RAW_CLONE in named and (reason := rawclone.unusable()):
            pytest.fail(f"the test names RAW_CLONE, and this process cannot raw-clone: {reason}")
        with pytest.MonkeyPatch.context() as mp:
            strategy_guard.strict_starts(mp)
            testfunction = pyfuncitem.obj
            argnames = pyfuncitem._fixtureinfo.argnames
            testfunction(**{arg: pyfuncitem.funcargs[arg] for arg in argnames})

    reason = rawclone.unusable() if exec_linux.RAW_CLONE in named else None
    if reason:
        strategy_guard.run_forked(body, reason)
    else:
        body()
    return True
