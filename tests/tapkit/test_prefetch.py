from __future__ import annotations

import threading

import pytest

from tenantsync.tapkit.errors import StopSync
from tenantsync.tapkit.prefetch import prefetched


def test_items_arrive_in_order_from_another_thread():
    threads = []

    def source():
        for i in range(50):
            threads.append(threading.current_thread())
            yield i

    assert list(prefetched(source())) == list(range(50))
    assert all(t is not threading.current_thread() for t in threads)


def test_an_error_of_the_source_surfaces_where_its_item_would_have_been():
    def source():
        yield 1
        yield 2
        raise StopSync("quota")

    got = []
    with pytest.raises(StopSync, match="quota"):
        for item in prefetched(source()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_worker_and_closes_the_source():
    produced, closed = [], threading.Event()

    def source():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    items = prefetched(source(), depth=1)
    assert next(items) == 0
    items.close()
    assert closed.is_set()
    assert len(produced) <= 3  # one ahead (plus the one being handed over), not all 1000
    assert not [t for t in threading.enumerate() if t.name == "tapkit-prefetch"]
