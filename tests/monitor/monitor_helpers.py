"""Request logs and baselines for the monitor tests, made with the server's own RequestLog writer.

The data is scikit-learn's bundled wine data set; the "model" is a logistic regression trained on
part of it, whose class probabilities are logged as Classify answers of a version.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd


def wine() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_wine

    frame, target = load_wine(return_X_y=True, as_frame=True)
    frame.columns = [c.replace("/", "_") for c in frame.columns]
    return frame, target.to_numpy()


def trained_model(frame: pd.DataFrame, target: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(frame.to_numpy(), target)


def examples(frame: pd.DataFrame) -> list[bytes]:
    import tensorflow as tf

    out = []
    for row in frame.itertuples(index=False):
        example = tf.train.Example()
        for name, value in zip(frame.columns, row):
            example.features.feature[name].float_list.value.append(float(value))
        out.append(example.SerializeToString())
    return out


def write_baseline(folder: str, frame: pd.DataFrame) -> tuple[str, str]:
    """Training statistics and an inferred schema of ``frame``, as StatisticsGen and SchemaGen write them."""
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.util.tfdv_io import STATS_FILE, write_schema, write_stats

    from pipelinekit.monitor.statistics import statistics_of_examples

    stats = statistics_of_examples(examples(frame))
    stats_path = os.path.join(folder, "statistics", "Split-train", STATS_FILE)
    write_stats(stats, stats_path)
    return stats_path, write_schema(tfdv.infer_schema(stats), os.path.join(folder, "schema"))


def log_classifications(log_dir: str, model: str, served: str, version: int, frame: pd.DataFrame, scores: np.ndarray,
                        ids: list[str], max_records: int = 10_000) -> None:  # fmt: skip
    """Log one Classify request per row, answered by ``served`` version ``version``, with request id ``ids[i]``."""
    from prometheus_client import CollectorRegistry
    from tensorflow_serving.apis import classification_pb2

    from pipelinekit.serving.metrics import RequestLogMetrics
    from pipelinekit.serving.request_id import request_id
    from pipelinekit.serving.request_log import RequestLog

    log = RequestLog(log_dir, 1.0, RequestLogMetrics(CollectorRegistry()), max_queue=1_000_000, max_records=max_records)
    for example, row_scores, rid in zip(examples(frame), scores, ids):
        request = classification_pb2.ClassificationRequest()
        request.model_spec.name = model
        request.input.example_list.examples.add().ParseFromString(example)
        response = classification_pb2.ClassificationResponse()
        response.model_spec.name = served
        response.model_spec.version.value = version
        classes = response.result.classifications.add()
        for label, score in enumerate(row_scores):
            classes.classes.add(label=str(label), score=float(score))
        token = request_id.set(rid)
        try:
            log.classify(model, request, response)
        finally:
            request_id.reset(token)
    log.close()


def policy(path: str, text: str) -> str:
    with open(path, "w") as handle:
        handle.write(text)
    return path


def value(prediction: dict, label: float) -> float:
    """A user's value of one answer: +1 when the top class is right, -5 when wrong."""
    top = max(range(len(prediction["scores"])), key=prediction["scores"].__getitem__)
    return 1.0 if float(prediction["classes"][top]) == label else -5.0
