"""The C++ decoding of PredictionLogs gives the same rows as reading them field by field, and the
examples parsed by TensorFlow make the same Arrow batch and TFDV statistics as tfx-bsl's decoder."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def _classify(rows: int, version: int | None, rid: str | None, features: int = 3):
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    log.log_metadata.model_spec.name = "m"
    if version is not None:
        log.log_metadata.model_spec.version.value = version
    log.log_metadata.timestamp_secs = 1700000000 + rows
    if rid is not None:
        log.log_metadata.request_origin = f"x-request-id:{rid}"
    for row in range(rows):
        example = tf.train.Example()
        for index in range(features):
            example.features.feature[f"f{index}"].float_list.value.append(row * 10.0 + index)
        example.features.feature["word"].bytes_list.value.append(f"w{row}".encode())
        log.classify_log.request.input.example_list.examples.add().CopyFrom(example)
        classes = log.classify_log.response.result.classifications.add()
        for label in range(3):
            classes.classes.add(label=f"c{label}", score=(row + label) / 10)
    return log


def _regress(rid: str):
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    log.log_metadata.model_spec.name = "r"
    log.log_metadata.model_spec.version.value = 7
    log.log_metadata.request_origin = f"x-request-id:{rid}"
    example = log.regress_log.request.input.example_list.examples.add()
    example.features.feature["x"].int64_list.value.append(3)
    log.regress_log.response.result.regressions.add(value=2.5)
    return log


def _both(logs):
    from pipelinekit.monitor.logs import _fast_rows, _rows

    records = [log.SerializeToString() for log in logs]
    slow: list = []
    for log in logs:  # as read_log_file does: a record without an id is named by its first row's position
        slow.extend(_rows(log, "/x/file.gz", len(slow)))
    fast = _fast_rows(records, "/x/file.gz")
    return (fast.materialize() if fast is not None else None), slow


def test_classify_and_regress_logs_decode_alike_in_cpp_and_python():
    fast, slow = _both([_classify(1, 3, "a"), _classify(2, 3, "b"), _classify(1, None, "c"), _classify(1, 4, None)])
    assert fast is not None and len(fast) == 5
    assert [(r.request_id, r.version) for r in fast] == [
        ("a", "m/3"),
        ("b/0", "m/3"),
        ("b/1", "m/3"),
        ("c", "m"),
        ("file.gz#4", "m/4"),
    ]
    for ours, theirs in zip(fast, slow):
        assert (ours.request_id, ours.version, ours.timestamp, ours.example) == (
            theirs.request_id,
            theirs.version,
            theirs.timestamp,
            theirs.example,
        )
        assert ours.prediction["classes"] == theirs.prediction["classes"]
        assert ours.prediction["scores"] == pytest.approx(theirs.prediction["scores"])
    fast, slow = _both([_regress("q"), _regress("s")])
    assert fast == slow and fast[0].prediction == {"value": [2.5]}


def test_a_mixed_or_predict_batch_is_read_field_by_field():
    from tensorflow_serving.apis import prediction_log_pb2

    from pipelinekit.monitor.decoded import decode_logs

    predict = prediction_log_pb2.PredictionLog()
    predict.predict_log.request.model_spec.name = "p"
    assert decode_logs([_classify(1, 1, "a").SerializeToString(), _regress("b").SerializeToString()]) is None
    assert decode_logs([predict.SerializeToString()]) is None


def test_predictions_as_columns_give_the_statistics_of_the_rows_dicts():
    import numpy as np

    from pipelinekit.monitor.predictions import Predictions

    counts = np.array([3, 0, 2, 3])
    classes = np.array(["a", "b", "c", "x", "y", "a", "b", "c"], object)
    scores = np.array([0.2, 0.5, 0.5, 0.9, 0.1, 0.3, 0.3, 0.4], np.float32)
    columns = Predictions(counts, classes, scores)
    dicts = Predictions(dicts=[columns.row(i) for i in range(4)])
    assert dicts.dicts[0] == {"classes": ["a", "b", "c"], "scores": pytest.approx([0.2, 0.5, 0.5])}
    assert columns.record_batch().equals(dicts.record_batch())  # ties: the first best class, as max() picks
    assert columns.record_batch().column(0).to_pylist() == [["b"], None, ["x"], ["c"]]
    picked = columns.take(np.array([3, 0]))
    assert [picked.row(0), picked.row(1)] == [columns.row(3), columns.row(0)]
    values = Predictions(values=np.array([1.5, 2.5], np.float32))
    assert values.record_batch().equals(Predictions(dicts=[values.row(0), values.row(1)]).record_batch())


def _example(features):
    import tensorflow as tf

    example = tf.train.Example()
    for name, (kind, values) in features.items():
        getattr(example.features.feature[name], kind).value.extend(values)
    return example.SerializeToString()


def test_examples_parsed_by_tensorflow_equal_tfx_bsls_batch_and_statistics():
    import numpy as np
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.util.arrow_examples import examples_to_record_batch
    from tensorflow_data_validation.statistics import stats_impl
    from tfx_bsl.coders import example_coder

    rng = np.random.default_rng(0)
    records = []
    for row in range(500):
        features = {"f": ("float_list", rng.normal(size=int(rng.integers(0, 3))).tolist()),
                    "i": ("int64_list", rng.integers(-5, 5, size=int(rng.integers(1, 3))).tolist()),
                    "s": ("bytes_list", [rng.choice([b"red", b"green", b""]) for _ in range(int(rng.integers(0, 3)))])}  # fmt: skip
        for name in list(features):  # some rows lack a feature; a present one may have no values
            if rng.random() < 0.2:
                del features[name]
        if row == 7:
            features["only_here"] = ("float_list", [1.0])
        records.append(_example(features))
    records.append(_example({}))
    ours = examples_to_record_batch(tf.constant(records))
    theirs = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    import pyarrow as pa

    assert pa.Table.from_batches([ours]).equals(pa.Table.from_batches([theirs]).select(sorted(theirs.schema.names)))
    ours_stats = stats_impl.generate_statistics_in_memory(ours, tfdv.StatsOptions())
    assert ours_stats == stats_impl.generate_statistics_in_memory(theirs, tfdv.StatsOptions())
    two_kinds = [_example({"f": ("float_list", [1.0])}), _example({"f": ("int64_list", [1])})]
    assert examples_to_record_batch(tf.constant(two_kinds)) is None  # tfx-bsl's decoder decides
