"""The longest test modules first, so that xdist's workers do not end on one long test while the others idle.

xdist hands tests out in collection order. The controlling pytest keeps each module's
seconds of the last run in pytest's cache (.pytest_cache, nsport/module-seconds), and
every process orders the modules by them, longest first; a module the cache does not
know keeps its place after the known ones. Tests inside a module keep their order, so a
module-scoped fixture is still set up once. Every worker reads the same cache, so all
collect the same order, as xdist requires. Without a cache (a fresh clone, or
-p no:cacheprovider) the order is pytest's.
"""

KEY = "nsport/module-seconds"
_seconds: dict[str, float] = {}


def reorder(config, items: list) -> None:
    cache = getattr(config, "cache", None)
    known = (cache.get(KEY, {}) if cache else {}) or {}
    if not known:
        return
    first = {}
    for i, item in enumerate(items):
        first.setdefault(item.nodeid.split("::")[0], i)
    items.sort(key=lambda item: (-known.get(item.nodeid.split("::")[0], -1.0), first[item.nodeid.split("::")[0]]))


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
