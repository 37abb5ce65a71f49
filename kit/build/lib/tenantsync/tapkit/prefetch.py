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

    Exceptions of `source` (StopSync, HTTP errors) surface in the consumer, at the point where
    the failed item would have been. When the consumer stops early, the worker is stopped and
    joined before this generator returns, so `source` is never used by two threads at once.
    """
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                items.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in source:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as exc:  # handed over to the consumer thread
            put((False, exc))

    worker = threading.Thread(target=work, name="tapkit-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = items.get()
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
