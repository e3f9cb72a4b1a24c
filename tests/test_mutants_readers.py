"""make mutants' readers (tests/support/mutants_readers.py): a line that runs at import is run against the
tests that can see what it defines, and against the whole suite when that cannot be told."""

from tests.support import mutants_map
from tests.support.mutants_readers import readers

A = """\
import os

LIMIT = 3
DOUBLE = LIMIT * 2
SILENT = 7
WIDTH = 4


def grow(n, by=1):
    return n + by


def limit():
    return DOUBLE


class Box:
    size = WIDTH

    def open(self, how=0):
        return how
"""
B = """\
from port import a
from port.a import LIMIT


def use():
    return a.DOUBLE, LIMIT
"""
SOURCES = {"port/a.py": A, "port/b.py": B}


def line(source: str, text: str) -> int:
    return next(n for n, ln in enumerate(source.splitlines(), 1) if ln.startswith(text) or ln.strip() == text)


def test_a_default_is_seen_by_the_tests_that_run_the_body():
    assert readers(SOURCES, {}, "port/a.py", line(A, "def grow")) == ({("port/a.py", line(A, "    return n + by"))},
                                                                       set())  # fmt: skip
    method = line(A, "    def open")
    assert readers(SOURCES, {}, "port/a.py", method) == ({("port/a.py", method + 1)}, set())


def test_a_constant_is_seen_where_it_is_read_and_through_what_is_built_from_it():
    lines, files = readers(SOURCES, {}, "port/a.py", line(A, "LIMIT = 3"))
    # DOUBLE is built from LIMIT at import: DOUBLE's readers see LIMIT too; b reads both, by module and by name.
    assert lines == {("port/a.py", line(A, "    return DOUBLE")), ("port/b.py", line(B, "    return a.DOUBLE"))}
    assert files == set()


def test_a_constant_nobody_reads_is_seen_by_no_test():
    assert readers(SOURCES, {}, "port/a.py", line(A, "SILENT = 7")) == (set(), set())


def test_test_files_that_name_it_or_list_the_module_see_it():
    tests = {"tests/test_x.py": "assert a.SILENT == 7\n", "tests/test_y.py": "names = vars(a)\n",
             "tests/test_z.py": "nothing here\n"}  # fmt: skip
    assert readers(SOURCES, tests, "port/a.py", line(A, "SILENT = 7")) == (set(), {"tests/test_x.py",
                                                                                   "tests/test_y.py"})  # fmt: skip


def test_what_cannot_be_told_is_the_whole_suite():
    assert readers(SOURCES, {}, "port/a.py", line(A, "import os")) is None
    # A class body is read by attribute name at run time; WIDTH's reader there runs at import.
    assert readers(SOURCES, {}, "port/a.py", line(A, "    size = WIDTH")) is None
    assert readers(SOURCES, {}, "port/a.py", line(A, "WIDTH = 4")) is None
    # A helper under tests/ that names it: which tests use the helper is not known.
    assert readers(SOURCES, {"tests/support/h.py": "a.SILENT\n"}, "port/a.py", line(A, "SILENT = 7")) is None


def test_select_narrows_an_import_time_line_to_its_readers_tests():
    def ctx(n: int, *tests: str) -> dict:
        return {n: list(tests)}

    cmap = {
        "lines": {"port/a.py": {**ctx(1, ""), **ctx(line(A, "LIMIT = 3"), ""),
                                **ctx(line(A, "    return DOUBLE"), "t.py::one"),
                                **ctx(line(A, "    return n + by"), "t.py::two")}},
        "order": ["t.py::one", "t.py::two", "tests/test_u.py::three"],
        "seconds": {"t.py::one": 1.0, "t.py::two": 1.0, "tests/test_u.py::three": 1.0},
    }  # fmt: skip
    sources = {"port/a.py": A, "port/b.py": B}
    assert mutants_map.select(cmap, "port/a.py", A, line(A, "LIMIT = 3")) is None  # without the sources
    assert mutants_map.select(cmap, "port/a.py", A, line(A, "LIMIT = 3"), sources, {}) == ["t.py::one"]
    assert mutants_map.select(cmap, "port/a.py", A, line(A, "LIMIT = 3"), sources, {"tests/test_u.py": "a.LIMIT"}) == [
        "t.py::one", "tests/test_u.py"]  # fmt: skip
    assert mutants_map.select(cmap, "port/a.py", A, line(A, "import os"), sources, {}) is None


def test_merge_joins_the_maps_of_disjoint_runs():
    one = {"lines": {"port/a.py": {3: ["t::a"]}}, "order": ["t::a"], "seconds": {"t::a": 1.0}, "failed": [],
           "phases": {"t::a": {"call": 1.0}}}  # fmt: skip
    two = {"lines": {"port/a.py": {3: ["", "u::b"], 4: ["u::b"]}}, "order": ["u::b"], "seconds": {"u::b": 2.0},
           "failed": ["u::b"], "phases": {"u::b": {"call": 2.0}}}  # fmt: skip
    assert mutants_map.merge([one, two]) == {
        "lines": {"port/a.py": {3: ["", "t::a", "u::b"], 4: ["u::b"]}},
        "order": ["t::a", "u::b"],
        "seconds": {"t::a": 1.0, "u::b": 2.0},
        "failed": ["u::b"],
        "phases": {"t::a": {"call": 1.0}, "u::b": {"call": 2.0}},
    }
