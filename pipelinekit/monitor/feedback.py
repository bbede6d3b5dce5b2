"""The feedback loop: joined (inputs, label) pairs as a new span ExampleGen picks up.

Each span is ``<base>/span-<N>/data-00000-of-00001.tfrecord.gz``: gzipped TFRecords of the logged
tf.Examples with the label added as ``label_feature``. It is written under a hidden folder and
renamed whole, so ExampleGen (``input_config`` pattern ``span-{SPAN}/*``) never reads half a span.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

__all__ = ["SPAN_PATTERN", "next_span", "write_span"]

SPAN_PATTERN = "span-{SPAN}/*"
_SPAN_FOLDER = re.compile(r"span-(\d+)")


def next_span(base: str) -> int:
    """One more than the highest span under ``base`` (1 for the first)."""
    spans = [int(m.group(1)) for m in map(_SPAN_FOLDER.fullmatch, os.listdir(base) if os.path.isdir(base) else []) if m]
    return max(spans, default=0) + 1


def write_span(base: str, span: int, pairs: list[tuple[bytes, Any]], label_feature: str) -> str:
    """Write ``pairs`` (example, label) as span ``span``; its folder. A span already there is kept
    (a monitor resumed after a kill writes the same span number again only if it was not renamed)."""
    import tensorflow as tf

    folder = os.path.join(base, f"span-{span}")
    if os.path.isdir(folder):
        return folder
    partial = os.path.join(base, f".span-{span}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    integral = all(not isinstance(label, str) and float(label).is_integer() for _, label in pairs)  # one type per span
    with tf.io.TFRecordWriter(os.path.join(partial, "data-00000-of-00001.tfrecord.gz"), options="GZIP") as writer:
        for example_bytes, label in pairs:
            example = tf.train.Example.FromString(example_bytes)
            feature = example.features.feature[label_feature]
            feature.Clear()
            if isinstance(label, str):
                feature.bytes_list.value.append(label.encode())
            elif integral:
                feature.int64_list.value.append(int(label))
            else:
                feature.float_list.value.append(float(label))
            writer.write(example.SerializeToString())
    os.replace(partial, folder)
    return folder
