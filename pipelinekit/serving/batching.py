"""Optional request batching: concurrent requests to one signature share one model call.

One batch per (servable, signature, output filter, row shape) runs at a time. Requests that
arrive while it runs queue up and form the next batch, so under load the model is called
with many rows at once, and a lone request never waits for company. The request that starts
a batch (the leader) waits up to ``batch_timeout_micros`` for it to fill to ``max_batch_size``
rows, runs it, and leads the next batch until its own request is answered. No background
threads.
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
    batch_timeout_micros: int = 0


@dataclass
class _Task:
    inputs: Mapping[str, np.ndarray]
    rows: int
    result: Future = field(default_factory=Future)
    taken: bool = False  # a batch holds it


@dataclass
class _Queue:
    cond: threading.Condition = field(default_factory=threading.Condition)
    tasks: list[_Task] = field(default_factory=list)
    rows: int = 0
    running: bool = False  # a leader is forming or running a batch


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
            queue.cond.notify_all()
            while queue.running and not task.taken:
                queue.cond.wait()
            leader = not task.taken
            queue.running = queue.running or leader
        if leader:
            self._lead(key, queue, task, servable, signature, output_filter)
        return task.result.result()

    def _lead(
        self,
        key: tuple,
        queue: _Queue,
        own: _Task,
        servable: Servable,
        signature: str,
        output_filter: Sequence[str],
    ) -> None:
        """Run batches from the queue's head until ``own`` is answered, then let the next leader in."""
        try:
            with queue.cond:
                queue.cond.wait_for(
                    lambda: queue.rows >= self.options.max_batch_size, self.options.batch_timeout_micros / 1e6
                )
            while not own.result.done():
                _execute(servable, signature, output_filter, self._take(queue))
        finally:
            with queue.cond:
                queue.running = False
                queue.cond.notify_all()
            with self._lock, queue.cond:
                if self._queues.get(key) is queue and not queue.tasks and not queue.running:
                    del self._queues[key]  # so unloaded servables are not kept alive by an idle queue

    def _take(self, queue: _Queue) -> list[_Task]:
        """The queued tasks from the head, up to max_batch_size rows (at least one)."""
        with queue.cond:
            batch: list[_Task] = []
            rows = 0
            while queue.tasks and (not batch or rows + queue.tasks[0].rows <= self.options.max_batch_size):
                task = queue.tasks.pop(0)
                task.taken = True
                batch.append(task)
                rows += task.rows
            queue.rows -= rows
            queue.cond.notify_all()
            return batch


def _batch_rows(inputs: Mapping[str, np.ndarray]) -> int | None:
    """The common first dimension of the inputs, or None when they cannot be batched."""
    sizes = {array.shape[0] if array.ndim else None for array in inputs.values()}
    return sizes.pop() if len(sizes) == 1 and None not in sizes else None


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
