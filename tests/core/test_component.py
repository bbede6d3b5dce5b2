"""Declaring components: @component functions and Component classes, and their mistakes."""

from __future__ import annotations

import pytest

from pipelinekit import (
    Component,
    ExecutionContext,
    InputArtifact,
    InputSpec,
    Model,
    OutputArtifact,
    OutputSpec,
    Parameter,
    ParameterSpec,
    Schema,
    component,
)
from pipelinekit.errors import ComponentDefinitionError, DefinitionError
from pipelinekit.types import Examples, ModuleFile


@component
def train(
    examples: InputArtifact[Examples],
    model: OutputArtifact[Model],
    context: ExecutionContext,
    schema: InputArtifact[Schema] | None = None,
    epochs: Parameter[int] = 3,
    module_file: Parameter[ModuleFile] = "",
) -> None:
    """Train a model."""


def test_function_component_spec_comes_from_the_signature():
    spec = train.definition.spec
    assert spec.inputs["examples"].type is Examples and not spec.inputs["examples"].optional
    assert spec.inputs["schema"].optional
    assert spec.outputs["model"].type is Model
    assert spec.parameters["epochs"].default == 3 and not spec.parameters["epochs"].required
    assert train.definition.context_argument == "context"
    assert train.definition.name == "train" and train.__doc__ == "Train a model."


def test_calling_makes_a_node_with_typed_output_channels():
    node = train(examples=None, epochs=5).with_id("trainer")
    assert node.id == "trainer"
    assert node.outputs["model"].type is Model
    assert node.parameters == {"epochs": 5, "module_file": ""}
    with pytest.raises(DefinitionError, match=r"node 'trainer' has no output 'modle' \(did you mean 'model'\?\)"):
        node.outputs["modle"]


def test_positional_arguments_are_refused():
    with pytest.raises(ComponentDefinitionError, match="keyword arguments only"):
        train(1)


def test_the_undecorated_function_stays_callable():
    assert train.fn(examples=None, model=None, context=None) is None


def test_unannotated_argument_names_the_component_and_argument():
    with pytest.raises(ComponentDefinitionError, match=r"component 'bad'.*argument 'x': annotate it as InputArtifact"):

        @component
        def bad(x: set) -> None: ...


def test_parameter_default_of_the_wrong_type_is_refused():
    with pytest.raises(ComponentDefinitionError, match=r"argument 'n': default 'three' does not fit: expected int"):

        @component
        def bad(n: Parameter[int] = "three") -> None: ...


def test_unsupported_parameter_type_and_non_artifact_input():
    with pytest.raises(ComponentDefinitionError, match=r"Parameter\[.*set.*\] is not supported"):

        @component
        def bad(n: Parameter[set]) -> None: ...

    with pytest.raises(ComponentDefinitionError, match="is not an Artifact subclass"):

        @component
        def worse(n: InputArtifact[int]) -> None: ...


def test_outputs_cannot_be_optional():
    with pytest.raises(ComponentDefinitionError, match="outputs cannot be optional"):

        @component
        def bad(m: OutputArtifact[Model] | None = None) -> None: ...


class Summarize(Component):
    """A class-declared component, as the standard components are written."""

    examples = InputSpec(Examples)
    schema = InputSpec(Schema, optional=True)
    model = OutputSpec(Model)
    rounds = ParameterSpec(int, default=2)
    EXECUTOR = "tests_toy_executor:run"


def test_class_components_build_the_same_definition():
    definition = Summarize.definition
    assert set(definition.spec.inputs) == {"examples", "schema"}
    assert definition.spec.parameters["rounds"].default == 2
    assert definition.executor == "tests_toy_executor:run"
    node = Summarize(examples=None)
    assert node.outputs["model"].type is Model and node.id == "Summarize"


def test_class_components_refuse_reserved_names_and_missing_executor():
    with pytest.raises(ComponentDefinitionError, match="reserved names"):

        class Bad(Component):
            outputs = OutputSpec(Model)
            EXECUTOR = "x:y"

    with pytest.raises(ComponentDefinitionError, match="set EXECUTOR"):

        class NoExecutor(Component):
            model = OutputSpec(Model)


def test_an_executor_path_that_does_not_import_names_the_component():
    with pytest.raises(ComponentDefinitionError, match="component 'Summarize': cannot load executor 'tests_toy_executor:run'"):
        Summarize.definition.load_executor()


def test_outputs_behave_as_a_mapping():
    node = train(examples=None)
    assert "model" in node.outputs and "modle" not in node.outputs
    assert node.outputs.get("modle") is None and list(node.outputs) == ["model"]
