"""Verdicts on a tiny SavedModel: InfraValidator turns a broken model into INFRA_NOT_BLESSED
(never a crash), the Pusher and the BulkInferrer read a blessing by one rule, and an Evaluator
without thresholds blesses with a warning and a reason."""

from __future__ import annotations

import json
import logging
import os
import shutil

import pytest
from pipelinekit.components.infra_validator.executor import run_infra_validator
from pipelinekit.components.infra_validator.requests import RequestBuildError

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.tfx import proto
from pipelinekit.tfx.utils.proto_utils import proto_to_json
from pipelinekit.types.standard import (
    Examples,
    InferenceResult,
    InfraBlessing,
    Model,
    ModelBlessing,
    ModelEvaluation,
    PushedModel,
)

pytestmark = pytest.mark.slow

SERVING_SPEC = proto_to_json(proto.ServingSpec())
ONE_TRY = proto_to_json(proto.ValidationSpec(num_tries=1, max_loading_time_seconds=60))


def _request_spec(*signatures: str) -> str:
    spec = proto.TensorFlowServingRequestSpec(signature_names=list(signatures))
    return proto_to_json(proto.RequestSpec(tensorflow_serving=spec, num_examples=2))


def _context(root, node: str) -> ExecutionContext:
    tmp = os.path.join(root, node + "_tmp")
    os.makedirs(tmp, exist_ok=True)
    return ExecutionContext("verdicts", str(root), node, "run", 1, tmp)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A SavedModel ``y = 2 * x`` over serialized tf.Examples, and Examples with splits train and eval."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("verdicts")

    class Doubler(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(2.0)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples):
            features = tf.io.parse_example(examples, {"x": tf.io.FixedLenFeature([1], tf.float32)})
            return {"y": features["x"] * self.w}

    model = Model(str(root / "model"))
    module = Doubler()
    tf.saved_model.save(module, model.serving_model_dir, signatures={"serving_default": module.serve})
    examples = Examples(str(root / "examples"))
    examples.splits = ["train", "eval"]
    for split in examples.splits:
        os.makedirs(examples.split_uri(split))
        with tf.io.TFRecordWriter(os.path.join(examples.split_uri(split), "data.gz"), options="GZIP") as writer:
            for value in range(4):
                example = tf.train.Example()
                example.features.feature["x"].float_list.value.append(float(value))
                writer.write(example.SerializeToString())
    return root, model, examples


def _copy(model: Model, target: str) -> Model:
    shutil.copytree(model.uri, target)
    return Model(target)


def _infra(root, model: Model, name: str, examples: Examples | None = None, request_spec: str | None = None) -> InfraBlessing:
    blessing = InfraBlessing(str(root / name))
    os.makedirs(blessing.uri)
    run_infra_validator(_context(root, "infra"), model, blessing, SERVING_SPEC, examples, request_spec, ONE_TRY)
    return blessing


def _assert_not_blessed(blessing: InfraBlessing, model: Model, words: str) -> None:
    assert os.listdir(blessing.uri) == ["INFRA_NOT_BLESSED"]
    assert blessing.blessed == 0 and blessing.has_model == 0
    reason = blessing.custom_properties["reason"]
    assert model.uri in reason and words in reason, reason


def test_infra_validator_blesses_the_good_model(tiny):
    root, model, examples = tiny
    blessing = _infra(root, model, "good", examples, _request_spec())
    assert os.listdir(blessing.uri) == ["INFRA_BLESSED"] and blessing.blessed == 1


@pytest.mark.parametrize("with_requests", [True, False])
def test_an_unreadable_saved_model_pb_is_infra_not_blessed(tiny, with_requests):
    root, model, examples = tiny
    garbage = _copy(model, str(root / f"garbage_{with_requests}"))
    with open(os.path.join(garbage.serving_model_dir, "saved_model.pb"), "wb") as handle:
        handle.write(b"\x00garbage\xff" * 10)
    blessing = _infra(root, garbage, f"garbage_blessing_{with_requests}", *((examples, _request_spec()) if with_requests else ()))
    _assert_not_blessed(blessing, garbage, "saved_model.pb" if with_requests else "failed to load")


@pytest.mark.parametrize("with_requests", [True, False])
def test_a_model_without_format_serving_is_infra_not_blessed(tiny, with_requests):
    root, _, examples = tiny
    empty = Model(str(root / f"empty_{with_requests}"))
    os.makedirs(empty.uri)
    blessing = _infra(root, empty, f"empty_blessing_{with_requests}", *((examples, _request_spec()) if with_requests else ()))
    _assert_not_blessed(blessing, empty, "has no Format-Serving/ folder")


def test_a_model_the_server_reports_not_found_is_infra_not_blessed(tiny, monkeypatch):
    from pipelinekit.serving import Client, ModelNotFoundError

    def not_found(self):
        raise ModelNotFoundError(f"Could not find any versions of model {self.model_name}")

    monkeypatch.setattr(Client, "status", not_found)
    root, model, _ = tiny
    blessing = _infra(root, model, "not_found")
    _assert_not_blessed(blessing, model, "the server found no servable version")


def test_a_request_spec_naming_a_missing_signature_fails_the_node(tiny):
    root, model, examples = tiny
    with pytest.raises(RequestBuildError, match="signature_names names 'nope'.*serving_default"):
        _infra(root, model, "typo", examples, _request_spec("nope"))


# ------------------------------------------------------------- one rule for reading a blessing


def _model_blessing(root, name: str, blessed: int | None, marker: bool) -> ModelBlessing:
    blessing = ModelBlessing(str(root / name))
    os.makedirs(blessing.uri)
    if blessed is not None:
        blessing.blessed = blessed
    if marker:
        open(os.path.join(blessing.uri, "BLESSED"), "w").close()
    return blessing


@pytest.mark.parametrize(
    ("blessed", "marker", "passes"),
    [(1, True, True), (1, False, True), (None, True, False), (None, False, False), (0, True, False)],
)
def test_pusher_and_bulk_inferrer_read_a_blessing_alike(tiny, blessed, marker, passes):
    """TFX's rule: the custom property ``blessed == 1``; a BLESSED file alone does not bless."""
    from pipelinekit.components.bulk_inferrer.executor import run_bulk_inferrer
    from pipelinekit.components.pusher.executor import run_pusher

    root, model, examples = tiny
    name = f"{blessed}_{marker}"
    blessing = _model_blessing(root, f"blessing_{name}", blessed, marker)
    pushed = PushedModel(str(root / f"pushed_{name}"))
    os.makedirs(pushed.uri)
    destination = proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory=str(root / f"serving_{name}")))
    run_pusher(_context(root, "pusher"), pushed, proto_to_json(destination), model=model, model_blessing=blessing)
    inferred = InferenceResult(str(root / f"inferred_{name}"))
    os.makedirs(inferred.uri)
    run_bulk_inferrer(_context(root, "bulk"), examples, model=model, model_blessing=blessing, inference_result=inferred)
    assert pushed.pushed == int(passes)
    assert bool(os.listdir(inferred.uri)) == passes
    if not passes:
        for reason in (pushed.custom_properties["reason"], inferred.custom_properties["reason"]):
            assert blessing.uri in reason
            assert ("no 'blessed' custom property" in reason) == (blessed is None)
            assert ("BLESSED file is not read" in reason) == (blessed is None and marker)


# ------------------------------------------------------------- Evaluator without thresholds


def test_no_thresholds_means_blessed_with_a_warning_and_a_reason(tiny, caplog):
    from pipelinekit.components.evaluator.executor import run_evaluator
    from pipelinekit.components.evaluator.verdict import NO_THRESHOLDS

    root, model, examples = tiny
    config = {
        "model_specs": [{"signature_name": "serving_default", "label_key": "x", "prediction_key": "y"}],
        "slicing_specs": [{}],
        "metrics_specs": [{"metrics": [{"class_name": "ExampleCount"}, {"class_name": "MeanSquaredError"}]}],
    }
    evaluation, blessing = ModelEvaluation(str(root / "evaluation")), ModelBlessing(str(root / "model_blessing"))
    os.makedirs(evaluation.uri)
    os.makedirs(blessing.uri)
    with caplog.at_level(logging.WARNING):
        run_evaluator(_context(root, "Evaluator"), examples, evaluation, blessing, model=model, eval_config=json.dumps(config))
    assert os.listdir(blessing.uri) == ["BLESSED"]
    assert blessing.blessed == 1 and blessing.custom_properties["reason"] == NO_THRESHOLDS
    assert any(NO_THRESHOLDS in record.getMessage() and record.levelno == logging.WARNING for record in caplog.records)
