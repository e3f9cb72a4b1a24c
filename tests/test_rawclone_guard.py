"""rawclone.unusable(): when a raw clone is refused, as port/rawclone.py's hazards say.

A glibc older than 2.25 caches getpid() in the child; another thread may hold libc's locks. musl
reports no CS_GNU_LIBC_VERSION and caches no pid. The answers are forced in-process (os.confstr and
the task list), milliseconds each; test_strategies.py shows what the start does with them.
"""

import os

import pytest

from port import rawclone


@pytest.fixture
def host(monkeypatch):
    """Set the libc the process reports (None: not glibc) and how many threads it has."""

    def make(libc: str | None, threads: int = 1):
        names = dict(os.confstr_names)
        if libc is None:
            names.pop("CS_GNU_LIBC_VERSION", None)
        else:
            names["CS_GNU_LIBC_VERSION"] = os.confstr_names.get("CS_GNU_LIBC_VERSION", 2)
        monkeypatch.setattr(os, "confstr_names", names)
        real_confstr, real_listdir = os.confstr, os.listdir
        monkeypatch.setattr(os, "confstr", lambda n: libc if n == "CS_GNU_LIBC_VERSION" else real_confstr(n))
        tasks = [str(n) for n in range(1, threads + 1)]
        monkeypatch.setattr(os, "listdir", lambda p=".": tasks if p == "/proc/self/task" else real_listdir(p))
        return rawclone.unusable()

    return make


@pytest.mark.parametrize("version", ["2.25", "2.35", "2.40.9000", "3.0", "10.1"])
def test_a_glibc_that_caches_no_pid_is_usable(host, version):
    assert host(f"glibc {version}") is None


@pytest.mark.parametrize("version", ["2.24", "2.9", "1.99", "2.24.9000"])
def test_an_older_glibc_is_refused(host, version):
    assert host(f"glibc {version}") == f"glibc {version} caches getpid()"


def test_musl_is_usable(host):
    assert host(None) is None


@pytest.mark.parametrize("libc", ["glibc 2.35", None])
def test_another_thread_is_refused(host, libc):
    assert host(libc, threads=2) == "other threads may hold libc's locks"
    assert host(libc, threads=1) is None
