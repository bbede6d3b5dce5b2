"""Low-confidence answers to people: a route's ``review`` option, off the request path.

After a route answers, the request and its answer are put on a bounded queue (a full queue drops
the copy, counted and logged) and the caller gets the answer at once. One background thread looks
at the queue every 50 ms (appending wakes nobody), computes each answer's confidence
(``top_probability``: the highest class probability; ``margin``: the highest minus the second; or
``module:function`` called with the answer as the monitor sees it) and
appends answers below the route's ``below`` to ``<queue_dir>/<route>/queue-<YYYYMMDD>.jsonl`` and,
as Label Studio import tasks, to ``<queue_dir>/<route>/label-studio/tasks-<YYYYMMDD>-<pid>-<n>.json``
(a JSON list per flush). Each item carries the request id, so reviewed labels go back through the
monitor's labels path. A request with several rows is one item; its confidence is its least
confident row's.
"""

from __future__ import annotations

import collections
import datetime
import importlib
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from pipelinekit.serving.request_id import request_id
from pipelinekit.serving.routes import Review

__all__ = ["ReviewQueue"]

logger = logging.getLogger(__name__)

_FLUSH_EVERY = 256
_POLL_S = 0.05  # how often the writer looks for new answers
_QUIET_FLUSH_S = 1.0  # what is judged is written after this long without new answers (or 256 of them, or at close)
_SEQUENCE = itertools.count()


class ReviewQueue:
    """Takes answers of routes with a ``review`` option; ``close()`` writes what is queued."""

    def __init__(self, routes: Callable[[str], Review | None], max_queue: int = 10_000) -> None:
        self._review_of = routes
        self._max_queue = max_queue
        # a deque, not a queue.Queue: appending takes no lock and wakes no thread; the writer looks every _POLL_S
        self._queue: collections.deque[tuple[str, Review, str | None, Any, Any]] = collections.deque()
        self._closing = threading.Event()
        self.dropped = 0
        self.queued = 0
        self._functions: dict[str, Callable[[dict[str, list[Any]]], float]] = {}
        self._thread = threading.Thread(target=self._write_loop, name="pipelinekit-review-queue", daemon=True)
        self._thread.start()

    def offer(self, route: str, request: Any, answer: Any) -> None:
        """After a route answered: queue the pair if the route has a review option; never waits."""
        review = self._review_of(route)
        if review is None:
            return
        if len(self._queue) < self._max_queue:
            self._queue.append((route, review, request_id.get(), request, answer))
            return
        self.dropped += 1
        if self.dropped & (self.dropped - 1) == 0:  # the 1st, 2nd, 4th, 8th ... drop: a log line, not a flood
            logger.warning("review queue full (%d answers waiting to be judged): %d answers of route %r and others "
                           "not queued for review so far; the request path does not wait", self._max_queue,
                           self.dropped, route)  # fmt: skip

    def close(self, timeout_s: float = 30.0) -> None:
        """Judge and write everything queued, then stop the writer (waits at most ``timeout_s``)."""
        self._closing.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            logger.error("review queue: %d answers still unwritten after %.0f s at shutdown", len(self._queue), timeout_s)

    def _write_loop(self) -> None:
        pending: dict[tuple[str, str], list[dict[str, Any]]] = {}
        quiet = 0.0  # seconds without new answers
        while True:
            closing = self._closing.wait(_POLL_S)  # answers are judged in batches, not one wake-up per request
            quiet = 0.0 if self._queue else quiet + _POLL_S
            while self._queue:
                self._judge(self._queue.popleft(), pending)
                time.sleep(0)  # give the GIL back between answers: request threads must not wait a switch interval (5 ms)
                if sum(map(len, pending.values())) >= _FLUSH_EVERY:
                    self._flush(pending)
            if closing or quiet >= _QUIET_FLUSH_S:
                self._flush(pending)
            if closing:
                return

    def _judge(self, job: tuple[str, Review, str | None, Any, Any], pending: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
        route, review, rid, request, answer = job
        try:
            item = self._item(route, review, rid, request, answer)
        except Exception:  # a user function or an odd answer must not stop the writer
            logger.exception("review queue of route %r: could not judge an answer", route)
            return
        if item is not None:
            pending.setdefault((route, review.queue_dir), []).append(item)
            self.queued += 1

    def _item(self, route: str, review: Review, rid: str | None, request: Any, answer: Any) -> dict[str, Any] | None:
        rows = list(_answer_rows(answer))
        if not rows:
            return None
        confidence = min(self._confidence(review.by, row) for row in rows)
        if confidence >= review.below:
            return None
        spec = answer[1] if isinstance(answer, tuple) else getattr(answer, "model_spec", None)
        return {
            "request_id": rid,
            "route": route,
            "model": spec.name if spec is not None else "",
            "version": spec.version.value if spec is not None and spec.HasField("version") else None,
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "confidence": confidence,
            "inputs": _inputs(request),
            "prediction": rows,
        }

    def _confidence(self, by: str, row: dict[str, list[Any]]) -> float:
        if by in ("top_probability", "margin"):
            scores = sorted(
                (float(v) for v in row.get("scores") or next((v for v in row.values() if v and not isinstance(v[0], str)), [])),
                reverse=True,
            )
            if not scores:
                return float("inf")
            return scores[0] if by == "top_probability" else scores[0] - (scores[1] if len(scores) > 1 else 0.0)
        if by not in self._functions:
            module, name = by.split(":")
            self._functions[by] = getattr(importlib.import_module(module), name)
        return float(self._functions[by](row))

    def _flush(self, pending: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
        for (route, queue_dir), items in list(pending.items()):
            if not items:
                continue
            folder = os.path.join(queue_dir, route)
            day = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
            try:
                os.makedirs(os.path.join(folder, "label-studio"), exist_ok=True)
                with open(os.path.join(folder, f"queue-{day}.jsonl"), "a") as handle:
                    handle.write("".join(_yielding(json.dumps(item, sort_keys=True) + "\n" for item in items)))
                tasks = _yielding(
                    json.dumps({"data": {**item["inputs"], "request_id": item["request_id"]},
                                "predictions": [{"model_version": f"{item['model']}/{item['version']}",
                                                 "score": item["confidence"], "result": []}]})
                    for item in items
                )  # fmt: skip
                name = f"tasks-{day}-{os.getpid()}-{next(_SEQUENCE)}.json"
                with open(os.path.join(folder, "label-studio", f".{name}.partial"), "w") as handle:
                    handle.write("[" + ", ".join(tasks) + "]")
                os.replace(os.path.join(folder, "label-studio", f".{name}.partial"), os.path.join(folder, "label-studio", name))
            except OSError:
                logger.exception("review queue of route %r: cannot write to %s; %d answers lost", route, folder, len(items))
            pending[(route, queue_dir)] = []


def _yielding(texts: Iterator[str]) -> Iterator[str]:
    """``texts``, giving the GIL to request threads between them: one long ``json.dumps`` of a whole
    flush held it for milliseconds."""
    for text in texts:
        yield text
        time.sleep(0)


def _answer_rows(answer: Any) -> Iterator[dict[str, list[Any]]]:
    """The answer's rows as the monitor sees predictions: ``classes``/``scores``, ``value``, or outputs."""
    if isinstance(answer, tuple):  # REST predict: (outputs, answered spec)
        yield from _array_rows(answer[0])
    elif hasattr(answer, "result") and hasattr(answer.result, "classifications"):
        for r in answer.result.classifications:
            yield {"classes": [c.label for c in r.classes], "scores": [c.score for c in r.classes]}
    elif hasattr(answer, "result") and hasattr(answer.result, "regressions"):
        for r in answer.result.regressions:
            yield {"value": [r.value]}
    elif hasattr(answer, "outputs"):
        import tensorflow as tf

        yield from _array_rows({name: tf.make_ndarray(proto) for name, proto in answer.outputs.items()})


def _array_rows(outputs: Mapping[str, np.ndarray]) -> Iterator[dict[str, list[Any]]]:
    batch = {a.shape[0] for a in outputs.values() if np.ndim(a)}
    if len(batch) != 1:
        return
    for row in range(batch.pop()):
        yield {name: _plain(np.asarray(a)[row].ravel().tolist()) for name, a in outputs.items() if np.ndim(a)}


def _inputs(request: Any) -> dict[str, Any]:
    """The request's inputs as JSON: features of its tf.Examples, or its tensors (REST: arrays)."""
    if isinstance(request, Mapping):
        return {name: _plain(np.asarray(value).tolist()) for name, value in request.items()}
    if hasattr(request, "inputs"):
        import tensorflow as tf

        return {name: _plain(tf.make_ndarray(proto).tolist()) for name, proto in request.inputs.items()}
    examples = request.input.example_list.examples or request.input.example_list_with_context.examples
    rows = []
    for example in examples:
        row = {}
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            row[name] = _plain(list(getattr(feature, kind).value)) if kind else []
        rows.append(row)
    return rows[0] if len(rows) == 1 else {"examples": rows}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
