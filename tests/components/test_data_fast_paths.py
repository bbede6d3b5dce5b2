"""The in-process data paths' speed-ups keep their results: encoding ahead on a thread keeps order
and errors, the list form of the split rule is TFX's hash rule, and StatisticsGen's chunked
TensorFlow parsing gives tfx-bsl's statistics."""

from __future__ import annotations

import bisect
import hashlib
import os

import pytest
from pipelinekit.components.example_gen.splitting import Splitter
from pipelinekit.components.util.read_ahead import map_ahead

from pipelinekit.tfx import proto


def test_map_ahead_keeps_order_stays_bounded_and_raises_at_the_failing_item():
    pulled = []

    def items():
        for item in range(10):
            pulled.append(item)
            yield item

    results = map_ahead(lambda x: x * x, items(), depth=2)
    assert next(results) == 0
    assert len(pulled) <= 4  # the consumed item, the ones in flight, and one being submitted
    assert list(results) == [x * x for x in range(1, 10)]

    def fail_on_three(x: int) -> int:
        if x == 3:
            raise ValueError("bad item 3")
        return x

    seen = []
    with pytest.raises(ValueError, match="bad item 3"):
        for value in map_ahead(fail_on_three, range(6)):
            seen.append(value)
    assert seen == [0, 1, 2]


@pytest.mark.parametrize("buckets", [(2, 1), (40_000, 30_000)])  # a bucket table, and bisection past its size
def test_split_of_each_record_is_tfxs_hash_rule(buckets):
    config = proto.SplitConfig(splits=[proto.SplitConfig.Split(name=f"s{i}", hash_buckets=n) for i, n in enumerate(buckets)])
    splitter = Splitter.from_config(config)
    records = [os.urandom(40) for _ in range(3000)]
    boundaries = [sum(buckets[: i + 1]) for i in range(len(buckets))]
    expected = [bisect.bisect(boundaries, int(hashlib.sha256(r).hexdigest(), 16) % sum(buckets)) for r in records]
    assert splitter.assign(records) == expected
    assert [splitter(r) for r in records[:50]] == expected[:50]  # the per-record form Beam's Partition calls
    assert set(expected) == set(range(len(buckets)))


def _example(features: dict) -> bytes:
    import tensorflow as tf

    example = tf.train.Example()
    for name, (kind, values) in features.items():
        getattr(example.features.feature[name], kind).value.extend(values)
    return example.SerializeToString()


def test_statistics_read_in_chunks_equal_tfx_bsls_whole_decoding(tmp_path):
    """Chunks where a feature is absent, appears late, has a long name, or is present with no values are stitched
    into one batch whose TFDV statistics equal those of tfx-bsl decoding every record at once."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.util.examples_io import read_record_batch
    from tensorflow_data_validation.statistics import stats_impl
    from tfx_bsl.coders import example_coder

    from pipelinekit.types.standard import Examples

    rng = np.random.default_rng(7)
    records = []
    for row in range(60):
        features = {"x": ("float_list", rng.normal(size=int(rng.integers(0, 3))).tolist())}
        if row % 4:
            features["k"] = ("bytes_list", [rng.choice([b"a", b"b", b"c"])])
        if row >= 50:  # only in the last chunks
            features["late"] = ("int64_list", [int(rng.integers(0, 9))])
        if 20 <= row < 30:  # a name of 200 bytes: its length takes two bytes on the wire
            features["n" * 200] = ("float_list", [float(row)])
        records.append(_example(features))
    folder = tmp_path / "Split-train"
    folder.mkdir()
    with tf.io.TFRecordWriter(str(folder / "data_tfrecord-00000-of-00001.gz"), options="GZIP") as writer:
        for record in records:
            writer.write(record)
    examples = Examples()
    examples.uri = str(tmp_path)
    examples.splits = ["train"]
    ours = read_record_batch(examples, "train", batch_size=7)
    theirs = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    assert ours.num_rows == 60
    options = tfdv.StatsOptions()
    assert stats_impl.generate_statistics_in_memory(ours, options) == stats_impl.generate_statistics_in_memory(theirs, options)
