"""A command's pipe as Go reads it: an empty buffer reads nothing (Read of len(p) == 0 returns 0, nil),
and a failed read(2) is a *PathError naming the pipe."""

import os

import pytest

from port import exec
from port.errors import PathError


def test_read_of_zero_bytes_takes_nothing():
    cmd = exec.Command("sh", "-c", "echo hi")
    r = cmd.stdout_pipe()
    cmd.start()
    assert r.read(0) == b""
    assert r.read() == b"hi\n"
    cmd.wait()


def test_a_read_that_fails_is_gos_path_error(tmp_path):
    """read(2) failing (here EISDIR: a directory put in the pipe's place) is *PathError{"read", "|0", errno}."""
    cmd = exec.Command("true")
    r = cmd.stdout_pipe()
    cmd.start()
    directory = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.dup2(directory, r.fileno())
    finally:
        os.close(directory)
    with pytest.raises(PathError) as e:
        r.read(10)
    assert str(e.value) == "read |0: is a directory"
    with pytest.raises(PathError) as e:
        r.read()
    assert str(e.value) == "read |0: is a directory"
    cmd.wait()  # closes the reading end, the directory now


def test_a_pipe_used_as_a_context_manager_is_closed_after():
    """Port-only (Go has no with): leaving the block closes the reading end, as Close would."""
    cmd = exec.Command("sh", "-c", "echo hi")
    with cmd.stdout_pipe() as r:
        cmd.start()
        assert r.read() == b"hi\n"
    with pytest.raises(PathError) as e:
        r.read()
    assert str(e.value) == "read |0: file already closed"
    cmd.wait()
