"""A writer given as a command's stdout is checked as Go's io.Copy checks it.

io.Copy: a count below 0 or above what was handed over is errInvalidWrite ("invalid write result"),
and any other count short of it, 0 included, is ErrShortWrite ("short write"); Wait returns that.
"""

import pytest

from port import exec
from port.errors import GoError


class Writer:
    def __init__(self, n):
        self.n = n

    def write(self, data):
        return self.n(data)


@pytest.mark.parametrize(("count", "said"), [(lambda d: 0, "short write"), (lambda d: len(d) - 1, "short write"),
                                             (lambda d: -1, "invalid write result"),
                                             (lambda d: len(d) + 1, "invalid write result")],
                         ids=["zero", "one-short", "negative", "too-many"])  # fmt: skip
def test_a_writers_count_is_checked_as_gos_io_copy(count, said):
    cmd = exec.Command("echo", "hi")
    cmd.stdout = Writer(count)
    with pytest.raises(GoError) as e:
        cmd.run()
    assert str(e.value) == said


def test_a_writer_that_reports_nothing_wrote_it_all():
    cmd = exec.Command("echo", "hi")
    cmd.stdout = Writer(lambda d: None)
    cmd.run()
