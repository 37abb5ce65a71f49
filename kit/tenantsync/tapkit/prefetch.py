"""Read one page ahead: while the current page's records are emitted, a worker thread already
waits for the next page, so network (or server) time and emission overlap."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def prefetched(source: Iterable[T], depth: int = 1) -> Iterator[T]:
    """The items of `source` in order, produced up to `depth` items ahead in a worker thread.

    The worker asks `source` for item n + depth only once the consumer has taken item n, so
    besides the item the consumer holds, at most `depth` are held fetched (or being fetched):
    a page can be large (50,000 rows), and a queue slot alone would let the worker hold one
    more in its hand while it waits for room.

    Exceptions of `source` (StopSync, HTTP errors) surface in the consumer, at the point where
    the failed item would have been. When the consumer stops early, the worker is stopped and
    joined before this generator returns, so `source` is never used by two threads at once.
    """
    items: queue.SimpleQueue = queue.SimpleQueue()
    room = threading.Semaphore(depth)  # released by the consumer as it takes each item
    stop = threading.Event()

    def work() -> None:
        try:
            iterator = iter(source)
            while True:
                while not room.acquire(timeout=0.05):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(iterator, _END)
                items.put((True, item))
                if item is _END:
                    return
        except BaseException as exc:  # handed over to the consumer thread
            items.put((False, exc))

    worker = threading.Thread(target=work, name="tapkit-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = items.get()
            room.release()  # the worker may fetch the next item while this one is used
            if not ok:
                raise item  # type: ignore[misc]
            if item is _END:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
        close = getattr(source, "close", None)
        if close is not None:
            close()
