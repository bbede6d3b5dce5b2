"""The C++ decoding of PredictionLogs gives the same rows as reading them field by field."""

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
    return _fast_rows(records, "/x/file.gz", 0), slow


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
