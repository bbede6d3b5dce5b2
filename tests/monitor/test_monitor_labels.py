"""Labels that come later: joined by request id once, bad lines reported line by line; value and
TFMA performance per version; the joined pairs as a new span that ImportExampleGen reads."""

from __future__ import annotations

import json
import os

import pytest
from monitor_helpers import log_classifications, policy, trained_model, wine, write_baseline

pytestmark = pytest.mark.slow


def test_labels_join_once_report_bad_lines_and_feed_value_performance_and_a_new_span(tmp_path, monkeypatch):
    import tensorflow as tf

    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.lineage import MonitorRecorder
    from pipelinekit.monitor.window import run_window

    frame, target = wine()
    model = trained_model(frame.iloc[::2], target[::2])
    served = frame.iloc[1::2].reset_index(drop=True)  # 89 rows the model did not see
    truth = target[1::2]
    stats, schema = write_baseline(str(tmp_path / "baseline"), frame.iloc[::2])
    scores = model.predict_proba(served.to_numpy())
    ids = [f"r{i}" for i in range(len(served))]
    log_classifications(str(tmp_path / "logs"), "wine", "wine", 1, served, scores, ids, max_records=50)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "day1.csv").write_text(
        "request_id,label\n" + "".join(f"r{i},{truth[i]}\n" for i in range(40))
        + "r0,2\n"  # a duplicate: the first label wins
        + "nobody,1\n"  # no such request (yet)
        + "r41,\n"  # no label
    )  # fmt: skip
    (tmp_path / "eval_config.pbtxt").write_text(
        'model_specs { label_key: "label" prediction_key: "scores" }\n'
        'metrics_specs { metrics { class_name: "SparseCategoricalAccuracy" } metrics { class_name: "ExampleCount" } }\n'
        "slicing_specs {}\n"
    )
    config = load_config(
        policy(
            str(tmp_path / "policy.yaml"),
            f"""
model: wine
log_dir: logs
state_dir: state
metadata: metadata.sqlite
baselines: {{"wine/1": {{statistics: {stats}, schema: {schema}}}}}
labels: {{path: labels, id_key: request_id, label_key: label}}
value: monitor_helpers:value
eval_config: eval_config.pbtxt
feedback: {{base: feedback, label_feature: label}}
rules:
  - {{name: losing money, metric: value, below: 0, min_requests: 10, action: alert}}
""",
        )
    )
    first = run_window(config)
    assert first.labels == {"joined": 40, "duplicates": 1, "unmatched": 1, "bad_lines": 1}
    assert first.label_problems == [f"{labels / 'day1.csv'}, line 44: no 'label' for id 'r41'"]
    right = sum(int(scores[i].argmax() == truth[i]) for i in range(40))
    expected_value = right * 1.0 - (40 - right) * 5.0
    assert first.returns["wine/1"] == pytest.approx(expected_value)
    assert first.versions["wine/1"]["sparse_categorical_accuracy"] == pytest.approx(right / 40)
    assert first.versions["wine/1"]["labeled"] == 40
    [window] = MonitorRecorder(config.metadata, "wine").executions("MonitorWindow")  # performance recorded with drift
    recorded = json.loads(window.properties["metrics"])
    assert recorded["sparse_categorical_accuracy"] == pytest.approx(right / 40) and "skew_ratio" in recorded

    # later: labels for the rest arrive (JSON lines and TFRecord), one for r0 again, one bad line
    with open(labels / "day2.jsonl", "w") as handle:
        for i in range(40, 70):
            handle.write(json.dumps({"request_id": f"r{i}", "label": int(truth[i])}) + "\n")
        handle.write('{"request_id": "r0", "label": 1}\n{not json\n{"request_id": "r70", "label": [1, 2]}\n')
    with tf.io.TFRecordWriter(str(labels / "day3.tfrecord")) as writer:
        for i in range(71, len(served)):
            example = tf.train.Example()
            example.features.feature["request_id"].bytes_list.value.append(f"r{i}".encode())
            example.features.feature["label"].int64_list.value.append(int(truth[i]))
            writer.write(example.SerializeToString())
    second = run_window(config)
    assert second.requests == 0  # no new logs: the labels join requests waiting from window 1
    assert second.labels == {"joined": 30 + len(served) - 71, "duplicates": 1, "unmatched": 1, "bad_lines": 2}
    # r41 never labeled (day 1: no label); r70 a bad label; "nobody" tried again and still unmatched
    right_all = sum(int(scores[i].argmax() == truth[i]) for i in [*range(40, 70), *range(71, len(served))])
    total = expected_value + right_all - (len([*range(40, 70), *range(71, len(served))]) - right_all) * 5.0
    assert second.returns["wine/1"] == pytest.approx(total)

    # the feedback spans: ImportExampleGen with {SPAN} reads the latest
    assert [os.path.basename(s) for s in (first.span, second.span)] == ["span-1", "span-2"]
    from pipelinekit.components import ImportExampleGen

    from pipelinekit import LocalDagRunner, Pipeline
    from pipelinekit.tfx import proto

    monkeypatch.setenv("PIPELINEKIT_DATA_PATH", "in_process")
    node = ImportExampleGen(
        input_base=str(tmp_path / "feedback"),
        input_config=proto.Input(splits=[proto.Input.Split(name="train", pattern="span-{SPAN}/*")]),
    )
    result = LocalDagRunner().run(Pipeline("retrain", str(tmp_path / "pipeline"), [node]))
    examples = result.output("ImportExampleGen", "examples")
    assert examples.span == 2
    rows = [tf.train.Example.FromString(r) for split in examples.splits
            for path in tf.io.gfile.glob(os.path.join(examples.split_uri(split), "*"))
            for r in tf.data.TFRecordDataset(path, compression_type="GZIP").as_numpy_iterator()]  # fmt: skip
    assert len(rows) == second.labels["joined"]
    alcohol = {
        round(r.features.feature["alcohol"].float_list.value[0], 4): r.features.feature["label"].int64_list.value[0] for r in rows
    }
    assert alcohol[round(float(served["alcohol"][45]), 4)] == truth[45]
    # provenance: the span's Examples came from version wine/1 and the labels files
    feedback = MonitorRecorder(config.metadata, "wine").executions("FeedbackSpan")
    assert [json.loads(e.properties["versions"]) for e in feedback] == [["wine/1"], ["wine/1"]]
    assert sorted(os.path.basename(p) for p in json.loads(feedback[0].properties["label_files"])) == [
        "day2.jsonl",
        "day3.tfrecord",
    ]
