"""Go's src/os/exec/env_test.go, translated: dedupEnvCase."""

import pytest

from port import exec


@pytest.mark.parametrize(
    ("no_case", "nul_ok", "env", "want", "want_err"),
    [
        (True, False, ["k1=v1", "k2=v2", "K1=v3"], ["k2=v2", "K1=v3"], False),
        (False, False, ["k1=v1", "K1=V2", "k1=v3"], ["K1=V2", "k1=v3"], False),
        (False, False, ["=a", "=b", "foo", "bar"], ["=b", "foo", "bar"], False),
        # #49886: preserve weird Windows keys with leading "=" signs.
        (True, False, ["=C:=C:\\golang", "=D:=D:\\tmp", "=D:=D:\\"], ["=C:=C:\\golang", "=D:=D:\\"], False),
        # #52436: preserve invalid key-value entries (for now).
        (False, False, ["dodgy", "entries"], ["dodgy", "entries"], False),
        # Filter out entries containing NULs.
        (False, False, ["A=a\x00b", "B=b", "C\x00C=c"], ["B=b"], True),
        # Plan 9 needs to preserve environment variables with NUL (#56544).
        (False, True, ["path=one\x00two"], ["path=one\x00two"], False),
    ],
)
def test_DedupEnv(no_case, nul_ok, env, want, want_err):
    got, err = exec.dedup_env_case(no_case, nul_ok, env)
    assert got == want and (err is not None) == want_err
