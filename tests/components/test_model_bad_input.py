"""Bad input to the model components: each a clear error naming the node, file and field,
with nothing published. Constructor mistakes are caught before anything runs."""

from __future__ import annotations

import os
import shutil

import pytest
from model_fixtures import EVAL_CONFIG, LABEL, MODULE_FILE, shared_model_run, xf
from pipelinekit.components.util.errors import ComponentArgumentError


@pytest.fixture(scope="module")
def channels():
    from pipelinekit import importer
    from pipelinekit.types.standard import Examples, InfraBlessing, Model

    return {
        "examples": importer("/nonexistent/examples", Examples).with_id("e").outputs["result"],
        "model": importer("/nonexistent/model", Model).with_id("m").outputs["result"],
        "infra": importer("/nonexistent/infra", InfraBlessing).with_id("i").outputs["result"],
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda c: _trainer(c), "give exactly one of module_file= .* and run_fn= .*got neither"),
        (lambda c: _trainer(c, module_file=MODULE_FILE, run_fn="a.b.run_fn"), "got both"),
        (lambda c: _trainer(c, transformed_examples=c["examples"], module_file=MODULE_FILE), "exactly one of examples="),
        (
            lambda c: _components().Trainer(transformed_examples=c["examples"], module_file=MODULE_FILE),
            "transformed_examples= needs transform_graph=",
        ),
        (
            lambda c: _trainer(c, module_file=MODULE_FILE, train_args=_proto().EvalArgs()),
            r"train_args=\.\.\.\) takes a .*TrainArgs",
        ),
        (lambda c: _components().Tuner(examples=c["examples"]), "Tuner: give exactly one of module_file="),
        (lambda c: _components().Evaluator(examples=c["examples"]), "eval_config= is required"),
        (lambda c: _components().Evaluator(examples=c["examples"], eval_config=42), "takes a tfma.EvalConfig, a dict"),
        (
            lambda c: _components().Evaluator(examples=c["examples"], eval_config={}, feature_slicing_spec=object()),
            "feature_slicing_spec= is deprecated",
        ),
        (lambda c: _components().Pusher(model=c["model"]), "push_destination= is required"),
        (lambda c: _components().Pusher(push_destination=_destination("/tmp/x")), "give model="),
        (lambda c: _components().InfraValidator(model=c["model"]), "serving_spec= is required"),
    ],
)
def test_constructor_mistakes_are_caught_at_declaration(channels, make, message):
    with pytest.raises(ComponentArgumentError, match=message):
        make(channels)


def _components():
    from pipelinekit import components

    return components


def _proto():
    from pipelinekit.tfx import proto

    return proto


def _trainer(c, **kwargs):
    kwargs.setdefault("examples", c["examples"])
    return _components().Trainer(**kwargs)


def _destination(base: str):
    proto = _proto()
    return proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory=base))


def test_bulk_inferrer_has_exactly_one_output_as_in_tfx(channels):
    proto = _proto()
    plain = _components().BulkInferrer(examples=channels["examples"], model=channels["model"])
    spec = proto.OutputExampleSpec(output_columns_spec=[proto.OutputColumnsSpec(predict_output=proto.PredictOutput())])
    with_examples = _components().BulkInferrer(examples=channels["examples"], model=channels["model"], output_example_spec=spec)
    assert list(plain.outputs) == ["inference_result"]
    assert list(with_examples.outputs) == ["output_examples"]


def test_eval_config_forms_need_no_tfma_import_and_parse_alike():
    import json

    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format, text_format
    from pipelinekit.components.evaluator.component import eval_config_argument
    from pipelinekit.components.evaluator.eval_config import parse_eval_config

    proto = json_format.ParseDict(EVAL_CONFIG, tfma.EvalConfig())
    forms = [
        eval_config_argument(EVAL_CONFIG),
        eval_config_argument(proto),
        eval_config_argument(text_format.MessageToString(proto)),
    ]
    assert json.loads(forms[0]) == EVAL_CONFIG
    assert all(parse_eval_config(form) == proto for form in forms)


# ------------------------------------------------------------------- run-time mistakes


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory):
    """One pipeline whose nodes each get one kind of bad input, on the shared run's artifacts."""
    from pipelinekit import LocalDagRunner, Pipeline, importer
    from pipelinekit.types.standard import Examples, Model, ModelBlessing, TransformGraph

    good = shared_model_run(str(tmp_path_factory.getbasetemp() / "model_run"))
    tmp = tmp_path_factory.mktemp("bad_input")
    components, proto = _components(), _proto()
    splits = {"split_names": '["train", "eval"]'}
    transformed = importer(good.output("Transform", "transformed_examples").uri, Examples, properties=splits).with_id("xf")
    raw = importer(good.output("CsvExampleGen", "examples").uri, Examples, properties=splits).with_id("raw")
    graph = importer(good.output("Transform", "transform_graph").uri, TransformGraph).with_id("graph")
    model = importer(good.output("Trainer", "model").uri, Model).with_id("model")
    broken = importer(_broken_model(good.output("Trainer", "model").uri, str(tmp / "broken")), Model).with_id("broken")
    no_run_fn = tmp / "no_run_fn.py"
    no_run_fn.write_text("def train(fn_args):\n    pass\n")

    def trainer(node_id: str, module_file: str = good.module_file, **config):
        return components.Trainer(
            examples=transformed.outputs["result"],
            transform_graph=graph.outputs["result"],
            module_file=module_file,
            train_args=proto.TrainArgs(num_steps=2),
            eval_args=proto.EvalArgs(num_steps=1),
            custom_config={"epochs": 1, **config},
        ).with_id(node_id)

    typo = {**EVAL_CONFIG, "model_specs": [{**EVAL_CONFIG["model_specs"][0], "label_key": "speciess_xf"}]}
    slice_typo = {**EVAL_CONFIG, "slicing_specs": [{"feature_keys": ["iland"]}]}
    infra = components.InfraValidator(
        model=broken.outputs["result"], serving_spec=proto.ServingSpec(), validation_spec=proto.ValidationSpec(num_tries=2)
    ).with_id("broken_infra")
    nodes = [
        trainer("no_run_fn", str(no_run_fn)),
        trainer("raising_run_fn", fail=True),
        trainer("no_model", no_model=True),
        components.Evaluator(examples=raw.outputs["result"], model=model.outputs["result"], eval_config=typo).with_id(
            "label_typo"
        ),
        components.Evaluator(examples=raw.outputs["result"], model=model.outputs["result"], eval_config=slice_typo).with_id(
            "slice_typo"
        ),
        components.Pusher(model=model.outputs["result"], push_destination=_destination(str(no_run_fn / "sub"))).with_id(
            "unwritable"
        ),
        components.Pusher(
            model=broken.outputs["result"],
            infra_blessing=infra.outputs["blessing"],
            push_destination=_destination(str(tmp / "push")),
        ).with_id("broken_pusher"),
    ]
    not_blessed = tmp / "not_blessed"
    not_blessed.mkdir()
    (not_blessed / "NOT_BLESSED").touch()
    verdict = importer(str(not_blessed), ModelBlessing, custom_properties={"blessed": 0}).with_id("verdict")
    nodes += [
        components.BulkInferrer(
            examples=raw.outputs["result"], model=model.outputs["result"], model_blessing=verdict.outputs["result"]
        ).with_id("unblessed_inferrer"),
        components.BulkInferrer(
            examples=raw.outputs["result"],
            model=model.outputs["result"],
            model_spec=proto.ModelSpec(model_signature_name=["nope"]),
        ).with_id("signature_typo"),
        components.InfraValidator(
            model=model.outputs["result"],
            examples=raw.outputs["result"],
            serving_spec=proto.ServingSpec(),
            request_spec=proto.RequestSpec(tensorflow_serving=proto.TensorFlowServingRequestSpec(signature_names=["nope"])),
        ).with_id("request_typo"),
    ]
    result = LocalDagRunner().run(Pipeline("bad_inputs", str(tmp / "root"), nodes))
    return result, str(tmp), str(no_run_fn), good.module_file


def _broken_model(model_uri: str, target: str) -> str:
    """A copy of a good model whose variables file is cut in half: saved_model.pb reads, loading fails."""
    shutil.copytree(model_uri, target)
    variables = os.path.join(target, "Format-Serving", "variables")
    for name in os.listdir(variables):
        if name.startswith("variables.data"):
            path = os.path.join(variables, name)
            os.truncate(path, os.path.getsize(path) // 2)
    return target


def _failure(result, node: str) -> str:
    outcome = result.nodes[node]
    assert outcome.status == "failed", (node, outcome.status)
    assert outcome.outputs == {}
    return str(outcome.error)


def _nothing_published(root: str, node: str) -> None:
    node_dir = os.path.join(root, "root", node)
    leftovers = [d for d in os.listdir(node_dir) if not d.startswith(".")] if os.path.isdir(node_dir) else []
    assert leftovers == [], leftovers


def test_module_file_without_run_fn_names_file_and_function(bad_run):
    result, root, module, _ = bad_run
    message = _failure(result, "no_run_fn")
    assert "node 'no_run_fn'" in message and module in message and "'run_fn'" in message and "train" in message
    _nothing_published(root, "no_run_fn")


def test_run_fn_that_raises_names_module_and_cause(bad_run):
    result, root, _, module_file = bad_run
    message = _failure(result, "raising_run_fn")
    assert f"run_fn in module file {module_file} raised ValueError: custom_config asked run_fn to fail" in message
    assert "penguin_module.py" in result.nodes["raising_run_fn"].user_traceback
    _nothing_published(root, "raising_run_fn")


def test_run_fn_that_saves_no_model_names_module_and_folder(bad_run):
    result, root, _, module_file = bad_run
    message = _failure(result, "no_model")
    assert f"run_fn in module file {module_file} returned without saving a model" in message
    assert "Format-Serving holds no saved_model.pb" in message
    _nothing_published(root, "no_model")


def test_eval_config_naming_a_missing_label_or_slice_feature(bad_run):
    result, root, _, _ = bad_run
    message = _failure(result, "label_typo")
    assert "eval_config.model_specs[0].label_key = 'speciess_xf'" in message and xf(LABEL) in message
    assert "eval_config.slicing_specs[0].feature_keys = 'iland'" in _failure(result, "slice_typo")
    _nothing_published(root, "label_typo")


def test_unwritable_push_destination_names_the_field(bad_run):
    result, root, module, _ = bad_run
    message = _failure(result, "unwritable")
    assert "push_destination.filesystem.base_directory" in message and f"{module}/sub" in message and "not writable" in message
    _nothing_published(root, "unwritable")


def test_infra_validator_rejects_a_broken_saved_model_and_it_is_not_pushed(bad_run):
    result, root, _, _ = bad_run
    blessing = result.nodes["broken_infra"].outputs["blessing"][0]
    assert os.listdir(blessing.uri) == ["INFRA_NOT_BLESSED"]
    assert blessing.custom_properties["blessed"] == 0 and blessing.custom_properties["has_model"] == 0
    assert "failed to load" in blessing.custom_properties["reason"]
    pushed = result.nodes["broken_pusher"].outputs["pushed_model"][0]
    assert pushed.custom_properties["pushed"] == 0 and "infra_blessing" in pushed.custom_properties["reason"]
    assert not os.path.exists(os.path.join(root, "push")) or not [
        n for n in os.listdir(os.path.join(root, "push")) if n.isdigit()
    ]


def test_bulk_inferrer_skips_an_unblessed_model_and_says_so(bad_run):
    result = bad_run[0]
    output = result.nodes["unblessed_inferrer"].outputs["inference_result"][0]
    assert os.listdir(output.uri) == [] and "is not blessed" in output.custom_properties["reason"]


def test_signature_typos_name_the_field(bad_run):
    result, root, _, _ = bad_run
    message = _failure(result, "signature_typo")
    assert "model_spec.model_signature_name names ['nope']" in message and "serving_default" in message
    message = _failure(result, "request_typo")
    assert "request_spec.tensorflow_serving.signature_names names 'nope'" in message and "classify" in message
    _nothing_published(root, "signature_typo")
