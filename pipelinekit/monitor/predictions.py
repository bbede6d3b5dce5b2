"""The answers of logged rows as columns: Classify answers as flattened classes and scores, Regress
answers as values, anything else (Predict outputs) as one dict per row. A row's answer is made as a
dict only when asked for (labels, value, performance); statistics read the columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Predictions"]


class Predictions:
    """One answer per row: ``classes``/``scores`` with ``class_counts`` per row, ``values``, or ``dicts``."""

    def __init__(
        self,
        class_counts: np.ndarray | None = None,
        classes: np.ndarray | None = None,
        scores: np.ndarray | None = None,
        values: np.ndarray | None = None,
        dicts: Sequence[dict[str, list[Any]]] | None = None,
    ) -> None:
        self.class_counts, self.classes, self.scores, self.values = class_counts, classes, scores, values
        self.dicts = list(dicts) if dicts is not None else None
        if class_counts is not None:
            self.offsets = np.zeros(len(class_counts) + 1, np.int64)
            np.cumsum(class_counts, out=self.offsets[1:])

    def __len__(self) -> int:
        if self.dicts is not None:
            return len(self.dicts)
        return len(self.class_counts if self.class_counts is not None else self.values)  # type: ignore[arg-type]

    def row(self, index: int) -> dict[str, list[Any]]:
        if self.dicts is not None:
            return self.dicts[index]
        if self.values is not None:
            return {"value": [float(self.values[index])]}
        assert self.classes is not None and self.scores is not None
        start, end = self.offsets[index], self.offsets[index + 1]
        return {"classes": self.classes[start:end].tolist(), "scores": self.scores[start:end].tolist()}

    def take(self, rows: np.ndarray) -> Predictions:
        """The answers of ``rows`` (indices), in that order."""
        if self.dicts is not None:
            return Predictions(dicts=[self.dicts[i] for i in rows.tolist()])
        if self.values is not None:
            return Predictions(values=self.values[rows])
        assert self.class_counts is not None and self.classes is not None and self.scores is not None
        counts = self.class_counts[rows]
        flat = _ranges(self.offsets[rows], counts)
        return Predictions(counts, self.classes[flat], self.scores[flat])

    @staticmethod
    def concat(parts: Sequence[Predictions]) -> Predictions:
        if parts and all(p.values is not None for p in parts):
            return Predictions(values=np.concatenate([p.values for p in parts]))  # type: ignore[misc]
        if parts and all(p.class_counts is not None for p in parts):
            return Predictions(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("class_counts", "classes", "scores")))
        return Predictions(dicts=[p.row(i) for p in parts for i in range(len(p))])

    def record_batch(self) -> Any:
        """The answers as univariate features (see
        :func:`~pipelinekit.components.util.prediction_features.prediction_features`), an Arrow batch
        of one-value lists, as tfx-bsl decodes tf.Examples."""
        import pyarrow as pa

        from pipelinekit.components.util.prediction_features import features_record_batch, prediction_features

        if self.values is not None:
            return pa.RecordBatch.from_arrays([_one_value_lists(self.values.astype(np.float64), None)], ["value"])
        if self.dicts is not None:
            return features_record_batch([prediction_features(p) for p in self.dicts])
        assert self.class_counts is not None and self.classes is not None and self.scores is not None
        answered = self.class_counts > 0
        starts, counts = self.offsets[:-1][answered], self.class_counts[answered]
        best = np.maximum.reduceat(self.scores, starts) if len(starts) else np.zeros(0, np.float32)
        flat = _ranges(starts, counts)
        row_of = np.repeat(np.arange(len(starts)), counts)
        hits = np.flatnonzero(self.scores[flat] == best[row_of])
        rows_hit, first_hit = np.unique(row_of[hits], return_index=True)
        if len(rows_hit) != len(starts):  # a NaN score: as the rows' own reading does
            return Predictions(dicts=[self.row(i) for i in range(len(self))]).record_batch()
        first = flat[hits[first_hit]]
        top_class = pa.array(self.classes[first].tolist(), pa.string())
        top_score = best.astype(np.float64)
        return pa.RecordBatch.from_arrays(
            [_one_value_lists(top_class, answered), _one_value_lists(top_score, answered)], ["top_class", "top_score"]
        )


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices ``start, ..., start + count - 1`` of each pair, concatenated."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.int64)
    ends = np.cumsum(counts)
    return np.arange(total) - np.repeat(ends - counts, counts) + np.repeat(starts, counts)


def _one_value_lists(values: Any, answered: np.ndarray | None) -> Any:
    """``[v]`` per answered row, null for a row without an answer."""
    import pyarrow as pa

    if answered is None:
        answered = np.ones(len(values), bool)
    offsets = np.zeros(len(answered) + 1, np.int32)
    np.cumsum(answered, out=offsets[1:])
    values = values if isinstance(values, pa.Array) else pa.array(values)
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(~answered))
