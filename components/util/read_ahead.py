"""Mapping a function over a stream on a worker thread, a bounded number of items ahead of the
consumer: for C++ work that releases the GIL (tfx-bsl's coders), so it overlaps the caller's
Python work on another core while memory stays bounded by ``depth`` results."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["map_ahead"]

In = TypeVar("In")
Out = TypeVar("Out")


def map_ahead(function: Callable[[In], Out], items: Iterable[In], depth: int = 2, workers: int = 1) -> Iterator[Out]:
    """``map(function, items)`` in order, computed on ``workers`` threads up to ``depth`` items ahead."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pipelinekit-ahead") as pool:
        pending: deque[Future[Out]] = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
