"""TFX's ``tfx.dsl.placeholders`` in component arguments: ``exec_property``, ``input`` and
``output``, resolved when the node runs, with the resolved value in the cache key."""

from __future__ import annotations

import os
from typing import Any

import pytest

from pipelinekit import tfx
from pipelinekit.errors import CompileError, DefinitionError, RunError

ph = tfx.dsl.placeholders
String = tfx.types.standard_artifacts.String


@tfx.dsl.components.component
def Produce(
    text: tfx.dsl.components.Parameter[str],
    out: tfx.dsl.components.OutputArtifact[String],
    tag: tfx.dsl.components.Parameter[int] = 0,
) -> None:
    out.value = text  # ``tag`` changes nothing but makes the node run again


@tfx.dsl.components.component
def Consume(
    text: tfx.dsl.components.InputArtifact[String],
    report: tfx.dsl.components.OutputArtifact[String],
    source: tfx.dsl.components.Parameter[str],
    word: tfx.dsl.components.Parameter[str],
    greeting: tfx.dsl.components.Parameter[str],
    target: tfx.dsl.components.Parameter[str],
    config: tfx.dsl.components.Parameter[dict[str, Any]],
    prefix: tfx.dsl.components.Parameter[str] = "hey",
) -> None:
    assert source == text.uri, (source, text.uri)
    assert target == os.path.join(report.uri, "extra.txt"), (target, report.uri)
    with open(target, "w") as handle:
        handle.write(config["where"])
    report.value = f"{greeting} {word} {config['split']}"


def _pipeline(root: str, tag: int = 0, **overrides: Any):
    produce = Produce(text="data", tag=tag)
    arguments = dict(
        text=produce.outputs["out"],
        source=ph.input("text")[0].uri,
        word=ph.input("text")[0].value,
        greeting=ph.exec_property("prefix") + "!",
        target=ph.output("report")[0].uri + "/extra.txt",
        config={"where": ph.output("report")[0].uri, "split": ph.input("text").split_uri("train")},
    )
    arguments.update(overrides)
    return tfx.dsl.Pipeline(
        pipeline_name="placeholders", pipeline_root=root, components=[produce, Consume(**arguments)], enable_cache=True
    )


def _run(pipeline):
    return tfx.orchestration.LocalDagRunner().run(pipeline)


def test_placeholders_resolve_to_the_nodes_own_values_when_it_runs(pipeline_root):
    result = _run(_pipeline(pipeline_root))
    produced = result.output("Produce", "out")
    report = result.output("Consume", "report")
    assert report.value == f"hey! data {os.path.join(produced.uri, 'Split-train')}"
    with open(os.path.join(report.uri, "extra.txt")) as handle:  # written through the output's URI, then published
        where = handle.read()
    assert os.path.basename(where) == "report" and os.path.isdir(report.uri)


def test_the_resolved_values_are_in_the_cache_key(pipeline_root):
    first = _run(_pipeline(pipeline_root))
    again = _run(_pipeline(pipeline_root))
    assert again.nodes["Consume"].status == "cached"
    assert again.output("Consume", "report").uri == first.output("Consume", "report").uri
    changed = _run(_pipeline(pipeline_root, prefix="yo"))  # exec_property('prefix') resolves to another value
    assert changed.nodes["Consume"].status == "ran" and changed.output("Consume", "report").value.startswith("yo! ")
    # Produce runs again and writes the same content under a new URI: the input's fingerprint is
    # unchanged, but input('text')[0].uri resolves to the new URI, so Consume runs again
    moved = _run(_pipeline(pipeline_root, tag=1, prefix="yo"))
    old, new = changed.output("Produce", "out"), moved.output("Produce", "out")
    assert old.uri != new.uri and old.custom_properties["fingerprint"] == new.custom_properties["fingerprint"]
    assert moved.nodes["Consume"].status == "ran" and "source" in moved.nodes["Consume"].reason


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"source": ph.input("txt")[0].uri},
            "node 'Consume', parameter 'source': input('txt')[0].uri: the node has no input 'txt' (its inputs: text)",
        ),
        (
            {"target": ph.output("reprot").uri},
            "parameter 'target': output('reprot').uri: the node has no output 'reprot' (its outputs: report)",
        ),
        (
            {"greeting": ph.exec_property("prefx")},
            "parameter 'greeting': exec_property('prefx'): the node has no parameter 'prefx'",
        ),
        (
            {"greeting": ph.exec_property("word")},
            "exec_property('word'): an exec_property placeholder reads a plain parameter value",
        ),
    ],
)
def test_an_unknown_key_is_a_compile_error_naming_node_and_placeholder(pipeline_root, overrides, message):
    with pytest.raises(CompileError) as error:
        _run(_pipeline(pipeline_root, **overrides))
    assert message in str(error.value)


def test_run_time_problems_name_the_node_parameter_and_placeholder(pipeline_root):
    with pytest.raises(RunError) as failure:
        _run(_pipeline(pipeline_root, word=ph.input("text")[0].custom_property("nope")))
    assert "node 'Consume', parameter 'word': input('text')[0].custom_property('nope'): String(id=1" in str(failure.value)
    assert "has no custom property 'nope'" in str(failure.value)
    with pytest.raises(RunError, match=r"parameter 'config': input\('text'\)\[0\].uri resolved to an unfit value: "):
        _run(_pipeline(pipeline_root, config=ph.input("text")[0].uri))
    with pytest.raises(DefinitionError, match="an output has no value before its node writes it"):
        ph.output("report")[0].value  # noqa: B018 - as TFX, refused where it is written
