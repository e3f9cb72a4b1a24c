"""LookPath as Go's: found, not found, a slash in the name, a NUL, cleaned paths, the effective ids."""

import pytest

from port import exec


def test_not_found_in_path():
    with pytest.raises(exec.Error) as e:
        exec.Command("no-such-command-nsport").run()
    assert str(e.value) == 'exec: "no-such-command-nsport": executable file not found in $PATH'
