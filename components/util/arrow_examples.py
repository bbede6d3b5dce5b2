"""Serialized tf.Examples (a TensorFlow string tensor) to the Arrow batch tfx-bsl's
``ExamplesToRecordBatchDecoder`` makes of them, parsed by TensorFlow's C++ instead (several times
faster here, and the strings never become Python objects): which features each example has, and of
which kind, from the wire format with ``tf.io.decode_proto``; their values with ``tf.io.parse_example``.

The batch is tfx-bsl's, column for column: ``large_list<float|int64|large_binary>``, a row without
the feature null, a feature present with no values an empty list, columns in name order. Input
tfx-bsl would reject or read differently (a feature of two kinds, a feature with no kind) returns
``None``: decode it with tfx-bsl.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["examples_to_record_batch", "examples_record_batch"]

_CHUNK = 4096


def examples_to_record_batch(examples: Any) -> Any:
    """A ``pa.RecordBatch`` of the serialized tf.Examples in the 1-D string tensor ``examples``, or None."""
    import pyarrow as pa
    import tensorflow as tf
    from tfx_bsl.coders import example_coder

    rows = int(examples.shape[0])
    if rows == 0:
        return pa.RecordBatch.from_arrays([], schema=pa.schema([]))
    _, (features,) = tf.io.decode_proto(examples, "tensorflow.Example", ["features"], [tf.string])
    sizes, (entries,) = tf.io.decode_proto(features[:, 0], "tensorflow.Features", ["feature"], [tf.string])
    width = int(entries.shape[1])
    flat = tf.reshape(entries, [-1])
    in_example = (np.arange(width)[None, :] < sizes.numpy()[:, :1]).reshape(-1)  # not the padding of shorter examples
    keys = _leading_keys(flat, in_example)
    if keys is None:
        has_key, (keyed,) = tf.io.decode_proto(flat, "tensorflow.Features.FeatureEntry", ["key"], [tf.string])
        keys, in_example = keyed[:, 0], has_key.numpy()[:, 0] > 0
    where = np.flatnonzero(in_example)
    names, name_of = (t.numpy() for t in tf.unique(tf.gather(keys, where)))
    row_of = where // max(width, 1)
    has = np.zeros((rows, len(names)), bool)
    has[row_of, name_of] = True
    if np.count_nonzero(has) != len(where):
        return None  # a key twice in one example (the wire format allows it; the last one counts)
    first = [int(np.argmax(has[:, i])) for i in range(len(names))]  # an example that has each feature
    sample = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(list(tf.gather(examples, first).numpy()))
    kinds = {name: sample.column(name).type.value_type for name in sample.schema.names}
    spec = {}
    for name in names:
        kind = kinds.get(name.decode())
        if kind is None or kind == pa.null():
            return None  # a feature with no kind: tfx-bsl's reading of it is its own
        spec[name.decode()] = tf.io.VarLenFeature({pa.float32(): tf.float32, pa.int64(): tf.int64}.get(kind, tf.string))
    try:
        parsed = tf.io.parse_example(examples, spec)
    except tf.errors.InvalidArgumentError:
        return None  # a feature of two kinds in one batch: tfx-bsl refuses it
    order = sorted(range(len(names)), key=lambda i: names[i])
    columns = [_column(parsed[names[i].decode()], has[:, i], rows) for i in order]
    return pa.RecordBatch.from_arrays(columns, [names[i].decode() for i in order])


def _leading_keys(entries: Any, in_example: np.ndarray) -> Any:
    """Each map entry's key, cut from its first bytes when every entry starts with the key field
    and a one-byte length (as every encoder writes them, keys under 128 bytes): several times
    cheaper than decoding the entries. None otherwise: decode the entries."""
    import tensorflow as tf

    entries = tf.where(in_example, entries, b"\n\x00")  # padding: an empty key
    head = tf.io.decode_raw(tf.strings.substr(entries, 0, 2), tf.uint8, fixed_length=2).numpy()
    if not ((head[:, 0] == 0x0A) & (head[:, 1] < 0x80)).all():
        return None
    return tf.strings.substr(entries, np.full(len(head), 2, np.int32), head[:, 1].astype(np.int32))


def _column(sparse: Any, has: np.ndarray, rows: int) -> Any:
    import pyarrow as pa
    import tensorflow as tf

    per_row = np.bincount(sparse.indices[:, 0].numpy(), minlength=rows)
    offsets = np.zeros(rows + 1, np.int64)
    np.cumsum(per_row, out=offsets[1:])
    if sparse.values.dtype == tf.string:
        distinct, index = tf.unique(sparse.values)  # categories repeat: build each string once
        values = pa.DictionaryArray.from_arrays(index.numpy(), pa.array(distinct.numpy(), pa.large_binary()))
        values = values.cast(pa.large_binary())
    else:
        values = pa.array(sparse.values.numpy())
    return pa.LargeListArray.from_arrays(pa.array(offsets), values, mask=pa.array(~has))


def examples_record_batch(examples: Any) -> Any:
    """Serialized tf.Examples (a list of bytes or a 1-D string tensor) as tfx-bsl's Arrow batch:
    parsed by TensorFlow where :func:`examples_to_record_batch` can, else by tfx-bsl's decoder."""
    import tensorflow as tf
    from pipelinekit.components.util.examples_io import decode_examples

    tensor = examples if isinstance(examples, tf.Tensor) else tf.convert_to_tensor(examples, tf.string)
    batch = examples_to_record_batch(tensor)
    if batch is None:
        listed = list(tensor.numpy())
        batch = decode_examples(listed[start : start + _CHUNK] for start in range(0, len(listed), _CHUNK))
    return batch
