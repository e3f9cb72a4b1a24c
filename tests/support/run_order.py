"""The longest test modules first, so that xdist's workers do not end on one long test while the others idle.

xdist hands tests out in collection order. The controlling pytest keeps each module's
seconds of the last run in pytest's cache (.pytest_cache, nsport/module-seconds), reads
them once at the start and hands that copy to every worker (xdist's workerinput), so all
collect the same order, as xdist requires, even if another run writes the cache meanwhile.
Modules go longest first; a module the cache does not know keeps its place after the known
ones. Tests inside a module keep their order, so a module-scoped fixture is still set up
once. Without a cache (a fresh clone, or -p no:cacheprovider) the order is pytest's.
"""

KEY = "nsport/module-seconds"
_seconds: dict[str, float] = {}
_known: dict[str, dict[str, float]] = {}


def known(config) -> dict[str, float]:
    """The last run's seconds per module: the controller's copy, read once."""
    if hasattr(config, "workerinput"):
        return config.workerinput.get(KEY, {})
    if "seconds" not in _known:
        cache = getattr(config, "cache", None)
        _known["seconds"] = (cache.get(KEY, {}) if cache else {}) or {}
    return _known["seconds"]


def to_worker(node) -> None:
    """xdist's pytest_configure_node: the worker orders by the controller's copy."""
    node.workerinput[KEY] = known(node.config)


def reorder(config, items: list) -> None:
    known_seconds = known(config)
    if not known_seconds:
        return
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        first.setdefault(_module(item), i)
    items.sort(key=lambda item: (-known_seconds.get(_module(item), -1.0), first[_module(item)]))


def _module(item) -> str:
    return item.nodeid.split("::")[0]


def record(report) -> None:
    """Add one phase of one test to its module's seconds (called for every report the controller sees)."""
    module = report.nodeid.split("::")[0]
    _seconds[module] = _seconds.get(module, 0.0) + report.duration


def save(config) -> None:
    """Keep this run's seconds for the modules it ran whole (not under -k or -m, which run part of one)."""
    cache = getattr(config, "cache", None)
    if cache is None or hasattr(config, "workerinput") or config.getoption("keyword") or config.getoption("markexpr"):
        return
    if _seconds:
        cache.set(KEY, {**cache.get(KEY, {}), **{module: round(s, 2) for module, s in _seconds.items()}})


# Tests of a group xdist did not keep together (check_groups); each fails at setup, saying why.
UNGROUPED: set[str] = set()
UNGROUPED_WHY = ("--dist loadgroup did not group this test: this pytest and pytest-xdist do not work together "
                 "(pytest-dev/pytest-xdist#1386); install the versions pyproject.toml names")  # fmt: skip


def check_groups(session) -> set[str]:
    """Under --dist loadgroup, every test marked xdist_group must carry its group in its node id
    ("...@name"): that is how xdist tells the controller to keep a group on one worker. Without
    it xdist spreads the group silently, and each worker repeats the module fixtures the group
    exists to share (pytest 9.2 with xdist 3.8). Return the node ids of those that lack it."""
    if not getattr(session.config.option, "loadgroup", False):
        return set()
    return {item.nodeid for item in session.items
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid.rpartition("]")[2]}  # fmt: skip
