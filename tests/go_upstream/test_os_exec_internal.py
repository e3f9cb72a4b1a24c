"""Go's src/os/exec/internal_test.go, translated: prefixSuffixSaver (what ExitError.Stderr keeps)."""

import pytest

from port import exec


@pytest.mark.parametrize(
    ("n", "writes", "want"),
    [
        (2, [], ""),
        (2, ["a"], "a"),
        (2, ["abc", "d"], "abcd"),
        (2, ["abc", "d", "e"], "ab\n... omitting 1 bytes ...\nde"),
        (2, ["ab______________________yz"], "ab\n... omitting 22 bytes ...\nyz"),
        (2, ["ab_______________________y", "z"], "ab\n... omitting 23 bytes ...\nyz"),
    ],
)
def test_PrefixSuffixSaver(n, writes, want):
    w = exec._Saver(n)
    for s in writes:
        assert w.write(s.encode()) == len(s)
    assert w.bytes().decode() == want
