"""The Flink tests' shared parts: the cluster's arguments, replaying a node on the DirectRunner
with the inputs a Flink run recorded, and comparing two nodes' outputs by artifact type."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from nested_compare import first_difference

from pipelinekit.compile.compiler import compile_pipeline
from pipelinekit.dsl.loader import load_pipeline
from pipelinekit.orchestration.replay import prepare_replay

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
PENGUIN = os.path.join(REPO, "examples", "penguin", "pipeline.py")
# the penguin nodes whose executors build Beam pipelines (SchemaGen and ExampleValidator do not:
# they are TFDV calls on one statistics proto, in the orchestrating process)
BEAM_NODES = ["CsvExampleGen", "CsvExampleGen_Unlabelled", "StatisticsGen", "Transform", "Evaluator", "BulkInferrer"]
DIGITS = 3  # metrics and slice keys are compared after rounding: Flink and the DirectRunner sum in different orders
# Float tolerances (relative, absolute), from what differs between runners (docs/SCALE.md, "Why
# Transform's floats differ on Flink"). TFT's mean-and-var analyzer computes each batch's mean and
# variance in float32 and merges them; the runner cuts the bundles the batches come from, so its
# outputs differ by a few float32 ulps: with batchings drawn at random, the penguin means by up to
# 2 ulps (2.4e-7), the variances by up to 22 (2.6e-6); ANALYZERS (about 80 ulps) holds those. A
# z-score (x - mean) / std then moves by at most 2.4e-7 * |mean| / std + 1.3e-6 * |z|, under 1e-5
# on the penguin features (|mean| / std <= 14.4, |z| <= 3): RECORDS holds it ten times over.
ANALYZERS = (1e-5, 0.0)
RECORDS = (1e-4, 1e-4)
# The statistics of transformed features: a mean, min, max or median of values that each moved by
# at most e moves by at most e, and a standard deviation by at most 2e, so they hold RECORDS too.
# (1e-6 absolute did not: a z-score's mean is near 0, and every z-score of a feature moves by about
# the same 2.4e-7 * |mean| / std, up to 3.5e-6, when the runner's batching moves the mean.)
STATISTICS = RECORDS


def flink_args() -> list[str]:
    """PIPELINEKIT_FLINK_ARGS, else what scripts/flink_cluster.sh prints; fails if Flink is not up."""
    text = (
        os.environ.get("PIPELINEKIT_FLINK_ARGS")
        or subprocess.run(
            [os.path.join(REPO, "scripts", "flink_cluster.sh"), "args"], capture_output=True, text=True, check=True
        ).stdout
    )
    args = text.split()  # as the shell splits $(flink_cluster.sh args): the JSON keeps its quotes
    rest = next(a.split("=", 1)[1] for a in args if a.startswith("--flink_master="))
    try:
        urllib.request.urlopen(f"http://{rest}/overview", timeout=5).close()
    except OSError as error:
        pytest.fail(f"Flink is not up at {rest} ({error}): run scripts/flink_cluster.sh start first")
    return args


def load_penguin(root: str) -> Any:
    """The penguin example's Pipeline with its pipeline root (and SQLite store) at ``root``: the
    file reads PENGUIN_ROOT when it is imported."""
    os.environ["PENGUIN_ROOT"] = root
    try:
        return load_pipeline(PENGUIN)
    finally:
        del os.environ["PENGUIN_ROOT"]


def rerun_on_direct_runner(
    pipeline: Any, result: Any, node_id: str, folder: str, beam_args: list[str] | None = None
) -> dict[str, list[Any]]:
    """Run ``node_id``'s executor again on the DirectRunner (with ``beam_args``), on the inputs its
    execution recorded in ML Metadata; its outputs go under ``folder``."""
    execution_id = result.nodes[node_id].execution_id
    replay = prepare_replay(compile_pipeline(pipeline), node_id, folder, execution_id=execution_id, beam_args=beam_args or [])
    replay.run()
    return replay.outputs


def assert_same_outputs(node_id: str, flink: dict[str, list[Any]], direct: dict[str, list[Any]]) -> None:
    assert sorted(flink) == sorted(direct), node_id
    for key in flink:
        [ours], [theirs] = flink[key], direct[key]
        compare = _COMPARE.get(ours.TYPE_NAME)
        assert compare is not None, f"{node_id}.{key}: no comparison for {ours.TYPE_NAME}"
        compare(f"{node_id}.{key}", ours, theirs)


def _records(folder: str) -> list[bytes]:
    import tensorflow as tf

    files = sorted(f for f in glob.glob(os.path.join(folder, "*")) if os.path.isfile(f))
    return [r.numpy() for f in files for r in tf.data.TFRecordDataset(f, compression_type="GZIP" if f.endswith(".gz") else "")]


def _canonical(message: Any) -> str:
    from google.protobuf import json_format

    def rounded(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, DIGITS) + 0.0
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rounded(v) for v in value]
        return value

    return json.dumps(rounded(json_format.MessageToDict(message, float_precision=12)), sort_keys=True)


def _same_records(where: str, folder_a: str, folder_b: str, decode: Callable[[bytes], Any]) -> None:
    """The two folders hold the same records (``decode`` turns one into plain values), in any
    order, floats equal within ``RECORDS``: each record of ``folder_a`` is matched to a distinct
    record of ``folder_b``. Rounding both sides instead flips a value that sits on a rounding
    boundary (4 z-scores of 100 did, once)."""
    a = [decode(r) for r in _records(folder_a)]
    b = [decode(r) for r in _records(folder_b)]
    assert a, f"{where}: no records in {folder_a}"
    unmatched = list(b)
    only_a = 0
    for record in a:
        match = next((i for i, other in enumerate(unmatched) if _close(record, other, RECORDS)), None)
        if match is None:
            only_a += 1
        else:
            del unmatched[match]
    assert only_a == 0 and not unmatched, f"{where}: {only_a} records only on Flink, {len(unmatched)} only on Direct"


def _examples(where: str, ours: Any, theirs: Any) -> None:
    from google.protobuf import json_format
    from tensorflow.core.example import example_pb2

    assert ours.splits == theirs.splits, where
    for split in ours.splits:
        _same_records(
            f"{where} split {split}",
            ours.split_uri(split),
            theirs.split_uri(split),
            lambda record: json_format.MessageToDict(example_pb2.Example.FromString(record)),
        )


def _inference(where: str, ours: Any, theirs: Any) -> None:
    _same_records(where, ours.uri, theirs.uri, _prediction)


def _prediction(record: bytes) -> Any:
    """A PredictionLog as plain values, a PredictLog's output tensors as numbers: they are
    packed into ``tensor_content`` bytes, which would compare the floats bit for bit, and the
    same model's predictions on Flink differ from the DirectRunner's by up to 1e-6 (seen: 48 of
    80 logits and probabilities; the examples reach the model in other batches)."""
    import tensorflow as tf
    from google.protobuf import json_format
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog.FromString(record)
    values = json_format.MessageToDict(log)
    outputs = log.predict_log.response.outputs
    if outputs:
        values["predictLog"]["response"]["outputs"] = {key: tf.make_ndarray(tensor).tolist() for key, tensor in outputs.items()}
    return values


def _statistics(where: str, ours: Any, theirs: Any) -> None:
    from google.protobuf import json_format
    from tensorflow_metadata.proto.v0 import statistics_pb2

    def comparable(path: str) -> list[Any]:
        """Per dataset: its counts and each feature (by path, as the order differs), without the
        histograms: TFDV derives them from quantile sketches, whose output shows the merge order."""
        with open(path, "rb") as handle:
            stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(handle.read())
        datasets = []
        for dataset in stats.datasets:
            features = {}
            for feature in dataset.features:
                kind = feature.WhichOneof("stats")
                if kind in ("num_stats", "string_stats"):
                    del getattr(feature, kind).common_stats.num_values_histogram.buckets[:]
                if kind == "num_stats":
                    del feature.num_stats.histograms[:]
                features[_canonical(feature.path)] = json_format.MessageToDict(feature, including_default_value_fields=True)
            datasets.append((dataset.name, dataset.num_examples, features))
        return datasets

    paths = sorted(glob.glob(os.path.join(ours.uri, "**", "FeatureStats.pb"), recursive=True))
    assert paths, where
    for path in paths:
        a, b = comparable(path), comparable(os.path.join(theirs.uri, os.path.relpath(path, ours.uri)))
        difference = first_difference(a, b, STATISTICS)
        assert difference is None, f"{where}: {os.path.relpath(path, ours.uri)} differs at {difference}"


def _close(a: Any, b: Any, tolerance: tuple[float, float]) -> bool:
    """Equal, with floats equal within ``tolerance`` (relative, absolute)."""
    return first_difference(a, b, tolerance) is None


def _same_files(where: str, ours: Any, theirs: Any, names: tuple[str, ...]) -> None:
    for name in names:
        paths = sorted(glob.glob(os.path.join(ours.uri, "**", name), recursive=True))
        assert paths, f"{where}: no {name}"
        for path in paths:
            with open(path, "rb") as a, open(os.path.join(theirs.uri, os.path.relpath(path, ours.uri)), "rb") as b:
                assert a.read() == b.read(), f"{where}: {os.path.relpath(path, ours.uri)} differs"


def _transform_graph(where: str, ours: Any, theirs: Any) -> None:
    """The same output schema and vocabularies (byte for byte), and the same analyzer outputs
    (the float constants TFT writes into transform_fn) within ``ANALYZERS``."""
    _same_files(where, ours, theirs, ("schema.pbtxt",))
    assets = sorted(os.listdir(os.path.join(ours.uri, "transform_fn", "assets")))
    assert assets == sorted(os.listdir(os.path.join(theirs.uri, "transform_fn", "assets"))), where
    _same_files(where, ours, theirs, tuple(assets))
    a, b = _analyzer_constants(ours.uri), _analyzer_constants(theirs.uri)
    assert a, f"{where}: no float constants in transform_fn"
    assert _close(a, b, ANALYZERS), (
        f"{where}: analyzer outputs differ: {sorted(k for k in a if not _close(a[k], b.get(k), ANALYZERS))}"
    )


def _analyzer_constants(uri: str) -> dict[str, list[list[float]]]:
    """The float constants of transform_fn's graph and functions by node name (each name's values
    sorted: the functions' names carry trace counters that differ between processes)."""
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.framework import tensor_util

    with open(os.path.join(uri, "transform_fn", "saved_model.pb"), "rb") as handle:
        graph = saved_model_pb2.SavedModel.FromString(handle.read()).meta_graphs[0].graph_def
    nodes = [*graph.node, *(node for function in graph.library.function for node in function.node_def)]
    constants: dict[str, list[list[float]]] = {}
    for node in nodes:
        if node.op == "Const" and node.attr["dtype"].type in (types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE):
            constants.setdefault(node.name, []).append(tensor_util.MakeNdarray(node.attr["value"].tensor).ravel().tolist())
    return {name: sorted(values) for name, values in constants.items()}


def _evaluation(where: str, ours: Any, theirs: Any) -> None:
    import tensorflow_model_analysis as tfma

    def metrics(uri: str) -> dict[str, str]:
        return {_canonical(m.slice_key): _canonical(m) for m in tfma.load_metrics(uri)}

    a, b = metrics(ours.uri), metrics(theirs.uri)
    assert a and a == b, f"{where}: metrics differ on slices {sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))}"


_COMPARE = {
    "Examples": _examples,
    "ExampleStatistics": _statistics,
    "InferenceResult": _inference,
    "ModelEvaluation": _evaluation,
    "ModelBlessing": lambda where, a, b: (
        _same_files(where, a, b, ("BLESSED",))
        if os.path.exists(os.path.join(a.uri, "BLESSED"))
        else _same_files(where, a, b, ("NOT_BLESSED",))
    ),
    "Schema": lambda where, a, b: _same_files(where, a, b, ("schema.pbtxt",)),
    "TransformGraph": _transform_graph,
    "ExampleAnomalies": lambda where, a, b: _same_files(where, a, b, ("SchemaDiff.pb",)),
    "TransformCache": lambda where, a, b: None,  # TFT's cache entries: named by content hashes that include run ids
}
