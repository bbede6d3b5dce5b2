"""End to end: a real penguin pipeline (CsvExampleGen on spans, StatisticsGen, SchemaGen, Transform,
Trainer, Pusher) pushes two versions, the registry aliases them, a server follows ``production``,
``pipelinekit models rollback`` moves it back under 8 concurrent gRPC clients with no failed request,
and the command it prints trains on exactly the data of the rolled-back version."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest
from label_load import LabelLoad
from model_fixtures import copy_module_file, write_penguins_csv

from pipelinekit.registry import PRODUCTION, Registry

pytestmark = [pytest.mark.slow, pytest.mark.long]  # its parts: test_registry_records, _serving, _cli, test_pin_spans

PIPELINE_FILE = """
import sys
sys.path.insert(0, {fixtures!r})
from model_fixtures import penguin_trainer
from pipelinekit import Pipeline
from pipelinekit.components import CsvExampleGen, Pusher, SchemaGen, StatisticsGen, Transform
from pipelinekit.tfx import proto

gen = CsvExampleGen(
    input_base={data!r},
    input_config=proto.Input(splits=[proto.Input.Split(name="single_split", pattern="span-{{SPAN}}/*")]),
)
stats = StatisticsGen(examples=gen.outputs["examples"])
schema = SchemaGen(statistics=stats.outputs["statistics"])
transform = Transform(examples=gen.outputs["examples"], schema=schema.outputs["schema"], module_file={module!r})
trainer = penguin_trainer(
    transform.outputs["transformed_examples"], transform.outputs["transform_graph"], schema.outputs["schema"],
    {module!r}, {{"epochs": 1}},
)
pusher = Pusher(
    model=trainer.outputs["model"],
    push_destination=proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory={serving!r})),
)
pipeline = Pipeline("penguin_spans", {root!r}, [pusher])
"""


def _write_span(data: str, csv_folder: str, span: int, every: int) -> None:
    """Span ``span``: every ``every``-th penguin and each one with a missing value, so every span
    has all three species and the same required features (the model's interface stays the same)."""
    with open(os.path.join(csv_folder, "penguins.csv")) as handle:
        header, *rows = handle.read().splitlines()
    chosen = [row for index, row in enumerate(rows) if index % every == 0 or ",," in row or row.endswith(",")]
    os.makedirs(os.path.join(data, f"span-{span}"))
    with open(os.path.join(data, f"span-{span}", "penguins.csv"), "w") as handle:
        handle.write("\n".join([header, *chosen]) + "\n")


def _pipelinekit(*argv: str) -> str:
    """Run the ``pipelinekit`` command as a user does, in its own process; its output."""
    runner = ["--runner", "local"] if argv[0] == "run" else []
    done = subprocess.run([sys.executable, "-m", "pipelinekit", *argv, *runner], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _records(uri: str) -> list[bytes]:
    """Every serialized example of an Examples artifact, all splits, sorted: its content, order aside."""
    import tensorflow as tf

    files = sorted(os.path.join(root, f) for root, _, names in os.walk(uri) for f in names if root != uri)
    return sorted(r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP"))


def _penguin_request() -> dict[str, np.ndarray]:
    import tensorflow as tf

    floats = {"bill_length_mm": 39.1, "bill_depth_mm": 18.7}
    ints = {"flipper_length_mm": 181, "body_mass_g": 3750}
    feature = {k: tf.train.Feature(float_list=tf.train.FloatList(value=[v])) for k, v in floats.items()}
    feature |= {k: tf.train.Feature(int64_list=tf.train.Int64List(value=[v])) for k, v in (ints | {"year": 2007}).items()}
    feature |= {
        k: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v])) for k, v in {"island": b"Torgersen", "sex": b"male"}.items()
    }
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return {"examples": np.array([example.SerializeToString()])}


def test_push_alias_serve_roll_back_under_load_and_retrain_on_the_same_data(tmp_path, start_server):
    from pipelinekit.serving.model_config import single_model_config

    csv_folder = write_penguins_csv(str(tmp_path / "csv"))
    data, serving, root = str(tmp_path / "data"), str(tmp_path / "serving" / "penguin"), str(tmp_path / "root")
    module = copy_module_file(str(tmp_path / "module"))
    fixtures = os.path.dirname(os.path.abspath(copy_module_file.__code__.co_filename))
    pipeline_file = str(tmp_path / "penguin_spans.py")
    with open(pipeline_file, "w") as handle:
        handle.write(PIPELINE_FILE.format(fixtures=fixtures, data=data, module=module, serving=serving, root=root))
    store = os.path.join(root, "metadata.sqlite")

    _write_span(data, csv_folder, 1, 2)
    _pipelinekit("run", pipeline_file)
    _write_span(data, csv_folder, 2, 1)
    _pipelinekit("run", pipeline_file)
    registry = Registry.open(store)
    first, second = registry.versions("penguin")
    assert (first.semver, second.semver) == ("1.0.0", "1.1.0"), [
        (v.record["semver_reason"], v.record["required_features"]) for v in (first, second)
    ]
    assert [e["span"] for e in first.raw_examples] == [1] and [e["span"] for e in second.raw_examples] == [2]
    assert first.record["parameters"]["custom_config"] == {"epochs": 1} and first.record["code"]
    assert first.record["required_features"] and first.record["transform_graph"]["uri"]

    for version in (first, second):
        _pipelinekit("models", "alias", "penguin", PRODUCTION, str(version.number), "--reason", "release", "--metadata", store)
    server = start_server(single_model_config("penguin", serving), registry_metadata_path=store, registry_poll_wait_seconds=0.2)
    try:
        with LabelLoad(server.grpc_address, "penguin", PRODUCTION, clients=8, inputs=_penguin_request()) as load:
            load.wait_for_version(second.number, timeout_s=20)
            printed = _pipelinekit("models", "rollback", "penguin", "--metadata", store)
            switch_s = load.wait_for_version(first.number, timeout_s=20)
    finally:
        server.stop(grace_s=1)
    assert load.failures == [] and switch_s < 5
    assert f"version {second.number} -> version {first.number}" in printed and "span 1" in printed
    command = re.search(r"^\s*(pipelinekit run .*)$", printed, re.MULTILINE)[1]  # type: ignore[index]
    assert command == f"pipelinekit run {shlex.quote(pipeline_file)} --pin-span CsvExampleGen=1"

    shutil.copy(os.path.join(data, "span-2", "penguins.csv"), os.path.join(data, "span-1", "extra.csv"))
    _assert_rerun_reads_other_data_once_span_1_changed(pipeline_file, command, first, store)
    os.remove(os.path.join(data, "span-1", "extra.csv"))
    _pipelinekit(*shlex.split(command)[1:])
    rerun = _latest_run_examples(store)
    assert rerun.custom_properties["input_fingerprint"] == first.raw_examples[0]["fingerprint"]
    assert _records(rerun.uri) == _records(first.raw_examples[0]["uri"])  # the same model inputs


def _latest_run_examples(store_path: str):
    """The Examples the newest Transform execution read (it ran, or reused a result)."""
    from pipelinekit.dsl.metadata_config import sqlite_metadata
    from pipelinekit.metadata import MetadataStore
    from pipelinekit.metadata.store import NODE, node_context_name

    store = MetadataStore(sqlite_metadata(store_path))
    [transform] = store.executions_in_context(
        NODE, node_context_name("penguin_spans", "Transform"), ("COMPLETE", "CACHED"), limit=1
    )
    return store.artifacts_of_execution(transform.id, "INPUT")["examples"][0]


def _assert_rerun_reads_other_data_once_span_1_changed(pipeline_file: str, command: str, first, store: str) -> None:
    """The check can fail: with span 1's files changed, the pinned rerun's fingerprint differs."""
    _pipelinekit(*shlex.split(command)[1:])
    changed = _latest_run_examples(store)
    assert changed.custom_properties["span"] == 1
    assert changed.custom_properties["input_fingerprint"] != first.raw_examples[0]["fingerprint"]
