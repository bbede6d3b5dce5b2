"""TFX's function-component conventions, written as TFX's guide writes them (only the import
differs): ``-> OutputDict(accuracy=float)``, bare value-typed inputs, a value in a ``Cond``
predicate and as an ``InputArtifact[Float]``, ``BeamComponentParameter`` and ``AsyncOutputArtifact``."""

from __future__ import annotations

import math
import os
from typing import Optional

import pytest
from mlmd_helpers import executions_of, raw_store, state_name

from pipelinekit import tfx
from pipelinekit.errors import ComponentDefinitionError, PipelineKitError
from pipelinekit.tfx.dsl.component.experimental.annotations import OutputDict, Parameter
from pipelinekit.tfx.dsl.component.experimental.decorators import component

Float = tfx.types.standard_artifacts.Float
String = tfx.types.standard_artifacts.String


@tfx.dsl.components.component
def TrainIris(
    test_fraction: tfx.dsl.components.Parameter[float] = 0.3,
) -> tfx.dsl.components.OutputDict(accuracy=float, n_test=int, label=str, note=Optional[str]):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    x, y = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, random_state=0, stratify=y)
    model = LogisticRegression(max_iter=500).fit(x_train, y_train)
    return {"accuracy": float(model.score(x_test, y_test)), "n_test": len(y_test), "label": "iris", "note": None}


@tfx.dsl.components.component
def Report(
    accuracy: float,
    n_test: int,
    note: Optional[str],
    report: tfx.dsl.components.OutputArtifact[String],
    threshold: tfx.dsl.components.Parameter[float] = 0.0,
    missing: Optional[float] = None,
) -> None:
    report.value = f"{accuracy:.4f} on {n_test}, threshold {threshold:.4f}, note {note}, missing {missing}"


@tfx.dsl.components.component
def ReadArtifact(accuracy: tfx.dsl.components.InputArtifact[Float], copy: tfx.dsl.components.OutputArtifact[String]) -> None:
    with open(os.path.join(accuracy.uri, "value"), "rb") as handle:  # the file TFX writes
        copy.value = handle.read().decode()


@tfx.dsl.components.component
def Celebrate(flag: tfx.dsl.components.AsyncOutputArtifact[String]) -> None:
    flag.value = "good model"


def _pipeline(root: str, bar: float):
    train = TrainIris()
    report = Report(
        accuracy=train.outputs["accuracy"],
        n_test=train.outputs["n_test"],
        note=train.outputs["note"],
        threshold=train.outputs["accuracy"].future()[0].value,
    )
    read = ReadArtifact(accuracy=train.outputs["accuracy"])
    with tfx.dsl.Cond(train.outputs["accuracy"].future()[0].value > bar):
        celebrate = Celebrate()
    return tfx.dsl.Pipeline(
        pipeline_name="values",
        pipeline_root=root,
        components=[train, report, read, celebrate],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            os.path.join(root, "metadata.sqlite")
        ),
    )


def test_returned_values_are_value_artifacts_used_downstream_as_tfx_allows(pipeline_root):
    result = tfx.orchestration.LocalDagRunner().run(_pipeline(pipeline_root, bar=0.5))
    train = result.nodes["TrainIris"]
    accuracy = train.outputs["accuracy"][0]
    assert isinstance(accuracy, Float) and 0.8 < accuracy.value <= 1.0
    value_file = os.path.join(pipeline_root, "TrainIris", "accuracy", str(train.execution_id), "value")
    assert open(value_file).read() == repr(accuracy.value)  # TFX's encoding: str(float)
    assert train.outputs["n_test"][0].value == 45 and train.outputs["label"][0].value == "iris"
    note = train.outputs["note"][0]
    assert note.value is None and note.custom_properties["__is_null__"] == 1
    assert open(os.path.join(note.uri, "value"), "rb").read() == b""  # TFX writes None as an empty file

    report = result.nodes["Report"].outputs["report"][0].value
    assert report == f"{accuracy.value:.4f} on 45, threshold {accuracy.value:.4f}, note None, missing None"
    assert result.nodes["ReadArtifact"].outputs["copy"][0].value == repr(accuracy.value)
    assert result.nodes["Celebrate"].outputs["flag"][0].value == "good model"

    store = raw_store(pipeline_root)
    [artifact] = store.get_artifacts_by_uri(accuracy.uri)
    assert store.get_artifact_types_by_id([artifact.type_id])[0].name == "Float"
    assert artifact.custom_properties["__is_null__"].int_value == 0


def test_a_value_in_a_cond_predicate_skips_the_branch_when_false(pipeline_root):
    result = tfx.orchestration.LocalDagRunner().run(_pipeline(pipeline_root, bar=1.0))
    assert result.nodes["Celebrate"].status == "skipped"
    [execution] = executions_of(raw_store(pipeline_root), "Celebrate")
    assert state_name(execution) == "CANCELED"


def test_the_older_import_paths_of_tfxs_guides_work():
    @component
    def Count(n: Parameter[int]) -> OutputDict(double=int):
        return {"double": 2 * n}

    assert Count(n=2).outputs["double"].type is tfx.types.standard_artifacts.Integer


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (None, "must return a dict with the outputs \\['accuracy'\\]"),
        ({}, "did not return the outputs \\['accuracy'\\]"),
        ({"accuracy": None}, "returned None for output 'accuracy'; declare it Optional"),
        ({"accuracy": "high"}, "output 'accuracy': Float.value takes float or int, got str"),
    ],
)
def test_wrong_returns_fail_the_node_naming_the_output(pipeline_root, returned, message):
    @tfx.dsl.components.component
    def Broken(given: tfx.dsl.components.Parameter[str]) -> tfx.dsl.components.OutputDict(accuracy=float):
        import json

        return json.loads(given)

    pipeline = tfx.dsl.Pipeline(pipeline_name="broken", pipeline_root=pipeline_root, components=[Broken(given=_json(returned))])
    with pytest.raises(PipelineKitError) as raised:
        tfx.orchestration.LocalDagRunner().run(pipeline)
    assert raised.match(message) or any(_matches(message, node.error) for node in raised.value.result.nodes.values())
    assert not os.path.exists(os.path.join(pipeline_root, "Broken", "accuracy"))  # nothing published


def _json(value: object) -> str:
    import json

    return json.dumps(value)


def _matches(pattern: str, error: object) -> bool:
    import re

    return error is not None and re.search(pattern, f"{error} {error.__cause__}") is not None


def test_non_finite_floats_are_spelled_as_tfx_spells_them(tmp_path):
    for number, spelling in ((math.inf, b"Infinity"), (-math.inf, b"-Infinity"), (math.nan, b"NaN"), (0.1, b"0.1")):
        artifact = Float(str(tmp_path / spelling.decode()))
        artifact.value = number
        assert open(artifact.value_path, "rb").read() == spelling
        assert artifact.value == number or (math.isnan(number) and math.isnan(artifact.value))


@pytest.mark.parametrize(
    ("define", "message"),
    [
        ("def f(x: set) -> None: ...", "argument 'x': annotate it as"),
        ("def f() -> OutputDict(x=set): ...", "returned output 'x' has type"),
        ("def f() -> int: ...", "return annotation must be OutputDict"),
        ("def f(x: int) -> OutputDict(x=int): ...", "returned outputs \\['x'\\] are also arguments"),
        ("def f(x: float = 'a') -> None: ...", "default 'a' is not a"),
        ("def f(p: BeamComponentParameter[object] = 3) -> None: ...", "may only default to None"),
    ],
)
def test_bad_signatures_are_refused_when_defined(define, message):
    namespace = {"OutputDict": tfx.dsl.components.OutputDict, "BeamComponentParameter": tfx.dsl.components.BeamComponentParameter}
    exec(define, namespace)
    with pytest.raises(ComponentDefinitionError, match=message):
        tfx.dsl.components.component(namespace["f"])
