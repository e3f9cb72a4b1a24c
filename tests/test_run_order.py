"""make test hands out the longest modules of the last run first (tests/support/run_order.py)."""

from types import SimpleNamespace

from tests.support import run_order


class Cache:
    def __init__(self, seconds):
        self.data = {run_order.KEY: seconds}

    def get(self, key, default):
        return self.data.get(key, default)

    def set(self, key, value):
        self.data[key] = value


def _items(*nodeids):
    return [SimpleNamespace(nodeid=n) for n in nodeids]


def test_longest_modules_first_each_in_its_own_order(monkeypatch):
    monkeypatch.setattr(run_order, "_known", {})
    config = SimpleNamespace(cache=Cache({"tests/test_b.py": 9.0, "tests/test_c.py": 2.0}))
    items = _items("tests/test_a.py::x", "tests/test_b.py::y1", "tests/test_c.py::z", "tests/test_b.py::y0",
                   "tests/test_a.py::w")  # fmt: skip
    run_order.reorder(config, items)
    assert [i.nodeid for i in items] == ["tests/test_b.py::y1", "tests/test_b.py::y0", "tests/test_c.py::z",
                                         "tests/test_a.py::x", "tests/test_a.py::w"]  # fmt: skip


def test_a_worker_orders_by_the_controllers_copy_not_the_cache_as_it_is_now(monkeypatch):
    """Another run may write the cache while this one's workers collect: they must all agree."""
    monkeypatch.setattr(run_order, "_known", {})
    cache = Cache({"tests/test_b.py": 9.0})
    controller = SimpleNamespace(cache=cache)
    node = SimpleNamespace(config=controller, workerinput={})
    run_order.to_worker(node)
    cache.set(run_order.KEY, {"tests/test_a.py": 50.0})  # another run ended meanwhile
    worker = SimpleNamespace(cache=cache, workerinput=node.workerinput)
    items = _items("tests/test_a.py::x", "tests/test_b.py::y")
    run_order.reorder(worker, items)
    assert [i.nodeid for i in items] == ["tests/test_b.py::y", "tests/test_a.py::x"]


def test_without_a_cache_the_order_is_pytests(monkeypatch):
    monkeypatch.setattr(run_order, "_known", {})
    items = _items("tests/test_a.py::x", "tests/test_b.py::y")
    run_order.reorder(SimpleNamespace(cache=None), items)
    assert [i.nodeid for i in items] == ["tests/test_a.py::x", "tests/test_b.py::y"]


class Marked(SimpleNamespace):
    def get_closest_marker(self, name):
        return self.group if name == "xdist_group" else None


def _session(loadgroup, *items):
    return SimpleNamespace(config=SimpleNamespace(option=SimpleNamespace(loadgroup=loadgroup)), items=list(items))


def test_a_group_that_did_not_take_stops_the_run():
    """pytest 9.2 with xdist 3.8: the group suffix never reaches the node id, and xdist spreads the group."""
    items = [
        Marked(nodeid="tests/test_p.py::t[a@b]@rows", group="rows"),  # an "@" in a parameter is not the suffix
        Marked(nodeid="tests/test_p.py::u", group=None),
        Marked(nodeid="tests/test_p.py::t[c@d]", group="rows"),
    ]
    assert run_order.check_groups(_session(False, *items)) == set()  # -n 0, or another --dist: nothing to check
    assert run_order.check_groups(_session(True, *items)) == {"tests/test_p.py::t[c@d]"}
