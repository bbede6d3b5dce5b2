"""Optional request batching: concurrent requests to one signature share one model call.

The first request to reach an empty queue leads: it waits up to ``batch_timeout_micros`` (or
until ``max_batch_size`` rows are queued), runs everything queued in batches of at most
``max_batch_size`` rows, and hands each request its slice. No background threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from pipelinekit.serving.servable import Servable

__all__ = ["Batcher", "BatchingOptions"]


@dataclass(frozen=True)
class BatchingOptions:
    """TF Serving's main batching parameters."""

    max_batch_size: int = 32
    batch_timeout_micros: int = 1000


@dataclass
class _Task:
    inputs: Mapping[str, np.ndarray]
    rows: int
    result: Future = field(default_factory=Future)


@dataclass
class _Queue:
    cond: threading.Condition = field(default_factory=threading.Condition)
    tasks: list[_Task] = field(default_factory=list)
    rows: int = 0


class Batcher:
    """A Runner that batches requests with the same servable, signature, filter and input shapes."""

    def __init__(self, options: BatchingOptions) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._queues: dict[tuple, _Queue] = {}

    def run(
        self,
        servable: Servable,
        signature: str,
        inputs: Mapping[str, np.ndarray],
        output_filter: Sequence[str],
    ) -> dict[str, np.ndarray]:
        rows = _batch_rows(inputs)
        if rows is None or rows >= self.options.max_batch_size:
            return servable.run(signature, inputs, output_filter)
        shapes = tuple(sorted((name, array.dtype.str, array.shape[1:]) for name, array in inputs.items()))
        key = (servable, signature, tuple(output_filter), shapes)
        with self._lock:
            queue = self._queues.setdefault(key, _Queue())
        task = _Task(inputs, rows)
        with queue.cond:
            queue.tasks.append(task)
            queue.rows += rows
            leader = len(queue.tasks) == 1
            if queue.rows >= self.options.max_batch_size:
                queue.cond.notify_all()
        if leader:
            self._lead(key, queue, servable, signature, output_filter)
        return task.result.result()

    def _lead(
        self, key: tuple, queue: _Queue, servable: Servable, signature: str, output_filter: Sequence[str]
    ) -> None:
        with queue.cond:
            queue.cond.wait_for(
                lambda: queue.rows >= self.options.max_batch_size, self.options.batch_timeout_micros / 1e6
            )
            tasks, queue.tasks, queue.rows = queue.tasks, [], 0
        with self._lock:
            if self._queues.get(key) is queue and not queue.tasks:
                del self._queues[key]  # so unloaded servables are not kept alive by an idle queue
        for chunk in _chunks(tasks, self.options.max_batch_size):
            _execute(servable, signature, output_filter, chunk)


def _batch_rows(inputs: Mapping[str, np.ndarray]) -> int | None:
    """The common first dimension of the inputs, or None when they cannot be batched."""
    sizes = {array.shape[0] if array.ndim else None for array in inputs.values()}
    return sizes.pop() if len(sizes) == 1 and None not in sizes else None


def _chunks(tasks: list[_Task], max_rows: int) -> list[list[_Task]]:
    chunks: list[list[_Task]] = [[]]
    rows = 0
    for task in tasks:
        if chunks[-1] and rows + task.rows > max_rows:
            chunks.append([])
            rows = 0
        chunks[-1].append(task)
        rows += task.rows
    return chunks


def _execute(servable: Servable, signature: str, output_filter: Sequence[str], tasks: list[_Task]) -> None:
    if len(tasks) == 1:
        _settle(tasks[0], lambda: servable.run(signature, tasks[0].inputs, output_filter))
        return
    names = list(tasks[0].inputs)
    merged = {name: np.concatenate([task.inputs[name] for task in tasks]) for name in names}
    try:
        outputs = servable.run(signature, merged, output_filter)
    except Exception as exc:  # noqa: BLE001 - every request of the batch gets the model's error
        for task in tasks:
            task.result.set_exception(exc)
        return
    total = sum(task.rows for task in tasks)
    if any(np.ndim(array) == 0 or np.shape(array)[0] != total for array in outputs.values()):
        for task in tasks:  # outputs not per row: the batch cannot be split, so run each alone
            _settle(task, lambda task=task: servable.run(signature, task.inputs, output_filter))
        return
    start = 0
    for task in tasks:
        task.result.set_result({name: array[start : start + task.rows] for name, array in outputs.items()})
        start += task.rows


def _settle(task: _Task, call) -> None:
    try:
        task.result.set_result(call())
    except Exception as exc:  # noqa: BLE001 - the waiting request re-raises it
        task.result.set_exception(exc)
