"""Tuner (serial and with parallel trial processes) feeding a Trainer, and Keras 3 kept as
``tf.keras`` whatever the import order of tf.Transform."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from model_fixtures import shared_model_run


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """A serial Tuner feeding a Trainer, and a Tuner with two parallel trial processes."""
    from pipelinekit.components import Trainer, Tuner

    from pipelinekit import LocalDagRunner, Pipeline, importer
    from pipelinekit.tfx import proto
    from pipelinekit.types.standard import Examples, TransformGraph

    good = shared_model_run(str(tmp_path_factory.getbasetemp() / "model_run"))
    tmp = tmp_path_factory.mktemp("tuner")
    pids = tmp / "pids"
    pids.mkdir()
    examples = importer(
        good.output("Transform", "transformed_examples").uri, Examples, properties={"split_names": '["train", "eval"]'}
    ).with_id("xf")
    graph = importer(good.output("Transform", "transform_graph").uri, TransformGraph).with_id("graph")
    common = {
        "examples": examples.outputs["result"],
        "transform_graph": graph.outputs["result"],
        "module_file": good.module_file,
        "train_args": proto.TrainArgs(num_steps=5),
        "eval_args": proto.EvalArgs(num_steps=2),
    }
    serial = Tuner(**common, custom_config={"max_trials": 2}).with_id("serial")
    parallel = Tuner(
        **common, tune_args=proto.TuneArgs(num_parallel_trials=2), custom_config={"max_trials": 3, "pid_dir": str(pids)}
    ).with_id("parallel")
    trainer = Trainer(**common, hyperparameters=serial.outputs["best_hyperparameters"], custom_config={"epochs": 1})
    result = LocalDagRunner().run(Pipeline("tuning", str(tmp / "root"), [trainer, parallel]))
    return result, str(pids)


def _ok(result, node: str):
    assert result.nodes[node].status == "ran", result.nodes[node].error
    return result.nodes[node].outputs


def _read(artifact, name: str):
    with open(os.path.join(artifact.uri, name)) as handle:
        return json.load(handle)


def test_serial_tuner_writes_tfx_files_and_the_trainer_uses_its_best(tuned):
    import keras_tuner

    result, _ = tuned
    outputs = _ok(result, "serial")
    best = keras_tuner.HyperParameters.from_config(_read(outputs["best_hyperparameters"][0], "best_hyperparameters.txt"))
    assert best.values["learning_rate"] in (1e-2, 1e-3) and 1 <= best.values["num_layers"] <= 2
    rows = _read(outputs["tuner_results"][0], "tuner_results.json")
    assert len(rows) == 2 and all(set(row) == {"trial_id", "score", "learning_rate", "num_layers"} for row in rows)
    assert rows[0]["score"] >= rows[1]["score"]
    trained = _ok(result, "Trainer")
    with open(os.path.join(trained["model_run"][0].uri, "fn_args.json")) as handle:
        assert json.load(handle)["hyperparameters"]["values"] == best.values


def test_parallel_trials_run_in_separate_processes_against_one_oracle(tuned):
    result, pids = tuned
    outputs = _ok(result, "parallel")
    rows = _read(outputs["tuner_results"][0], "tuner_results.json")
    assert len(rows) == 3 and len({r["trial_id"] for r in rows}) == 3
    workers = {int(p) for p in os.listdir(pids)} - {os.getpid()}
    assert len(workers) == 2, os.listdir(pids)


def test_module_without_tuner_fn_fails_naming_file_and_function(tmp_path, tuned):
    from pipelinekit.components.trainer.user_code import UserFunction
    from pipelinekit.components.util.errors import UserModuleError

    module = tmp_path / "no_tuner.py"
    module.write_text("def run_fn(fn_args):\n    pass\n")
    with pytest.raises(UserModuleError, match=f"module file {module} defines no function 'tuner_fn'"):
        UserFunction("tuner_fn", str(module), None)


_IMPORT_ORDER = """
import os, sys
if sys.argv[1] == "tft_first":
    import tensorflow_transform
from pipelinekit.components.util.keras3 import KerasVersionError, keras3_environment, use_keras3
try:
    use_keras3()
except KerasVersionError as error:
    print("ERROR", error)
    raise SystemExit(0)
import tensorflow as tf
import tensorflow_transform
print("KERAS", tf.keras.version(), "TF_USE_LEGACY_KERAS" in keras3_environment())
"""


def test_keras3_is_pinned_before_tft_and_a_late_pin_fails_clearly():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    environment = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}

    def run(order: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _IMPORT_ORDER, order], cwd=root, env=environment, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    pinned = run("pin_first")
    assert pinned.startswith("KERAS 3.") and pinned.endswith("False")
    late = run("tft_first")
    assert late.startswith("ERROR tf.keras is Keras 2") and "TF_USE_LEGACY_KERAS" in late
