"""Assigning records to output splits by hash buckets, as TFX does: the bucket of a record
is ``int(sha256(key).hexdigest(), 16) % total_buckets``, where the key is the serialized
record, or the serialized partition feature when ``partition_feature_name`` is set (for a
tf.SequenceExample, a feature of its context, as TFX reads it)."""

from __future__ import annotations

import bisect
import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from pipelinekit.components.util.errors import InputDataError

__all__ = ["Splitter", "canonical", "canonical_records", "record_message"]


def canonical(record: bytes, sequence: bool = False) -> bytes:
    """The deterministic serialization of a tf.Example (a tf.SequenceExample with ``sequence``):
    encoders write feature maps in hash order, so the same example can have different bytes;
    the split key and the written record use this form, so every path gives the same bytes in
    the same split."""
    return canonical_records([record], sequence)[0]


def canonical_records(records: list[bytes], sequence: bool = False) -> list[bytes]:
    """:func:`canonical` of each record, with the parser looked up once per list."""
    parse = record_message(sequence).FromString
    return [parse(record).SerializeToString(deterministic=True) for record in records]


def record_message(sequence: bool) -> Any:
    """The proto class of the records: tf.SequenceExample with ``sequence``, else tf.Example."""
    from tensorflow.core.example import example_pb2

    return example_pb2.SequenceExample if sequence else example_pb2.Example


_BUCKET_TABLE_MAX = 1 << 16
"""Up to this many hash buckets, each bucket's split is looked up in a table made once."""


@dataclass(frozen=True)
class Splitter:
    """Maps a serialized tf.Example to the index of its output split."""

    names: tuple[str, ...]
    boundaries: tuple[int, ...]  # cumulative bucket counts
    partition_feature: str = ""
    sequence: bool = False  # the records are tf.SequenceExamples: partition by a context feature

    @classmethod
    def from_config(cls, split_config: object, sequence: bool = False) -> Splitter:
        splits = list(split_config.splits)  # type: ignore[attr-defined]
        names = tuple(s.name for s in splits)
        if not names:
            raise InputDataError("output_config.split_config has no splits; give at least one Split(name, hash_buckets)")
        if len(set(names)) != len(names) or any(not n for n in names):
            raise InputDataError(f"output split names must be unique and non-empty, got {list(names)}")
        if any(s.hash_buckets <= 0 for s in splits):
            raise InputDataError(f"every output split needs hash_buckets > 0, got {[(s.name, s.hash_buckets) for s in splits]}")
        total, boundaries = 0, []
        for split in splits:
            total += split.hash_buckets
            boundaries.append(total)
        return cls(names, tuple(boundaries), split_config.partition_feature_name, sequence)  # type: ignore[attr-defined]

    def __call__(self, record: bytes, _count: int = 0) -> int:
        return self.assign([record])[0]

    def assign(self, records: list[bytes]) -> list[int]:
        """The output split index of each record (the integer value of the big-endian digest is
        ``int(hexdigest, 16)``, computed without the text)."""
        keys = [self._key(record) for record in records] if self.partition_feature else records
        total, sha256, as_int = self.boundaries[-1], hashlib.sha256, int.from_bytes
        buckets = [as_int(sha256(key).digest(), "big") % total for key in keys]
        table = self._split_of_bucket
        if table is None:
            return [bisect.bisect(self.boundaries, bucket) for bucket in buckets]
        return [table[bucket] for bucket in buckets]

    @functools.cached_property
    def _split_of_bucket(self) -> list[int] | None:
        total = self.boundaries[-1]
        return [bisect.bisect(self.boundaries, bucket) for bucket in range(total)] if total <= _BUCKET_TABLE_MAX else None

    def _key(self, record: bytes) -> bytes:
        message = record_message(self.sequence).FromString(record)
        features = (message.context if self.sequence else message.features).feature
        if self.partition_feature not in features:
            raise InputDataError(f"Feature name `{self.partition_feature}` does not exist; partition_feature_name must name a column")
        feature = features[self.partition_feature]
        kind = feature.WhichOneof("kind")
        if kind is None:
            raise InputDataError(f"Partition feature does not contain any value (feature {self.partition_feature!r})")
        if kind not in ("bytes_list", "int64_list"):
            raise InputDataError(f"Only `bytes_list` and `int64_list` features are supported for partition, not {kind} ({self.partition_feature!r})")
        return feature.SerializeToString(deterministic=True)
