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
    assert len(produced) <= 2  # the one taken and one ahead, not all 1000
    assert not [t for t in threading.enumerate() if t.name == "tapkit-prefetch"]


def test_the_worker_fetches_an_item_only_once_the_one_before_it_is_taken():
    """One ahead, not two: while the consumer works on item 0, the worker may fetch item 1
    but not item 2 (a queue slot alone would let it hold a third, fetched, while it waits for
    room: for 50,000-row pages that is a page of memory more)."""
    third = threading.Event()

    def source():
        for i in range(5):
            if i == 2:
                third.set()
            yield i

    items = prefetched(source(), depth=1)
    assert next(items) == 0
    assert not third.wait(0.5)  # the consumer is busy with item 0
    assert list(items) == [1, 2, 3, 4]
