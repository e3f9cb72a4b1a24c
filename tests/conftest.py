"""Fixtures shared by the whole suite: host safety, the fork guard, privileges."""

import os

import pytest

from port import libc
from tests import hostguard
from tests.launchers import GO, PAIR

PR_SET_CHILD_SUBREAPER = 36


def pytest_configure(config):
    # Orphans (a shell whose launcher died) are re-parented to pytest instead
    # of init, so the leftover check sees them and can reap them.
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1)


def pytest_sessionstart(session):
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


@pytest.fixture(params=PAIR, ids=lambda launcher: launcher.name)
def launcher(request):
    """Each of the two launchers every regression run compares."""
    return request.param


def require_root():
    if os.geteuid() != 0:
        pytest.skip("needs euid 0 on the host (CI runs as root)")
