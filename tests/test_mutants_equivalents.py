"""The equivalent mutants' list (tests/support/mutants_equivalents.toml) against the current source.

make mutants checks every entry against the mutants cosmic-ray generates before it runs any; here is
the part that needs no cosmic-ray, so that make test fails as soon as an edit of port/ leaves an entry
naming code that moved or went: re-key the entry (function and snippet) or remove it.
"""

import textwrap
from types import SimpleNamespace

import pytest

from tests.support import mutants_equivalents as eq


def test_every_entry_names_its_function_and_snippet():
    problems = [f"{e}: {p}" for e in eq.load() if (p := eq.source_problem(e))]
    assert not problems, "stale entries in tests/support/mutants_equivalents.toml:\n" + "\n".join(problems)


def test_no_entry_twice():
    keys = [(e.file, e.function, eq.squeeze(e.before), eq.squeeze(e.after)) for e in eq.load()]
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("len(data) < size", "len(data) <= size"),
        ("pidfd >= 0", "pidfd < 0"),
        ("dir_fd is None", "dir_fd is not None"),
        ("dir_fd is None", "not dir_fd is None"),
        ("size - len(data)", "size + len(data)"),
        ("return -1", "return +1"),
        ("return -1", "return - 2"),
        ("(0, 1, 2)", "( 1, 1, 2)"),
        ("o <= 0xDCFF", "o <= 56576"),
        ("max(0.0, t)", "max( 1.0, t)"),
        ("mapped and not raw", "mapped or not raw"),
        ("strict=True", "strict=False"),
        ("except (OSError, ValueError)", "except (OSError, CosmicRayTestingException)"),
        ("os.close(pipes.ready[1])", "pass"),
        ("for x in items:", "for x in []:"),
    ],
)
def test_an_operator_change_is_a_mutation(before, after):
    assert eq.is_mutation(before, after)


@pytest.mark.parametrize(
    ("before", "after"),
    [("x < 1", "x < 3"), ("os.close(fd)", "os.close(fd2)"), ("a = 1", "a = 1"), ("n = 2", "n = 1"), ("x", "pass")],
)
def test_other_changes_are_not(before, after):
    assert not eq.is_mutation(before, after)


SOURCE = textwrap.dedent("""\
    def f(fd, nextfd, err_w):
        if nextfd == err_w:  # the pipe
            nextfd += 1
        nextfd += 1
        os.close(fd)
        return xi < 0 or i < 0
""")


def _mutant(line: int, old: str, new: str, function: str = "f") -> SimpleNamespace:
    """A mutant of SOURCE: on `line`, old becomes new."""
    lines = SOURCE.splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return SimpleNamespace(file="m.py", function=function, line=line, operator="op", source="".join(lines))


@pytest.fixture
def root(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    return tmp_path


def _check(root, entries, mutants):
    return eq.check(entries, mutants, {"m.py": SOURCE}, root)


def _entry(before, after, function="f"):
    return eq.Equivalent("m.py", function, before, after, "a reason")


def test_a_snippet_covers_only_the_mutant_it_holds(root):
    mutants = [_mutant(3, "+= 1", "+= 2"), _mutant(4, "+= 1", "+= 2"), _mutant(5, "os.close(fd)", "pass")]
    # the two `nextfd += 1` lines are told apart by the line before, across the line break
    pipe = _entry("# the pipe\n            nextfd += 1", "# the pipe nextfd += 2")
    close = _entry("os.close(fd)", "pass")
    found, problems = _check(root, [pipe, close], mutants)
    assert problems == []
    assert found == [pipe, None, close]


def test_a_snippet_ends_on_whole_words(root):
    found, problems = _check(root, [_entry("i < 0", "i <= 0")], [_mutant(6, "xi < 0", "xi <= 0")])
    assert found == [None]
    assert problems == ["equivalent m.py f: 'i < 0' -> 'i <= 0': covers no mutant of the current source"]


def test_an_entry_whose_code_is_gone_is_named(root):
    entries = [_entry("nextfd += 1", "nextfd += 2", function="g"), _entry("os.close(fd2)", "pass")]
    _, problems = _check(root, entries, [_mutant(5, "os.close(fd)", "pass")])
    assert problems == [
        "equivalent m.py g: 'nextfd += 1' -> 'nextfd += 2': no function g in m.py",
        "equivalent m.py f: 'os.close(fd2)' -> 'pass': the snippet is not in f",
    ]


def test_a_mutant_two_entries_cover_is_named(root):
    entries = [_entry("nextfd += 1", "nextfd += 2"), _entry("pipe\n nextfd += 1", "pipe nextfd += 2")]
    _, problems = _check(root, entries, [_mutant(3, "+= 1", "+= 2")])
    assert len(problems) == 1 and problems[0].startswith("m.py:3 op: covered by 2 equivalents: ")
