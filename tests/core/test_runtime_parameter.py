"""``tfx.dsl.experimental.RuntimeParameter``: a parameter value given when the pipeline runs."""

from __future__ import annotations

import pytest

from pipelinekit import tfx
from pipelinekit.errors import CompileError, DefinitionError

String = tfx.types.standard_artifacts.String


@tfx.dsl.components.component
def Repeat(
    word: tfx.dsl.components.Parameter[str],
    times: tfx.dsl.components.Parameter[int],
    out: tfx.dsl.components.OutputArtifact[String],
) -> None:
    out.value = " ".join([word] * times)


def _pipeline(root: str, times_default: int | None = 2):
    times = tfx.dsl.experimental.RuntimeParameter(name="times", ptype=int, default=times_default)
    word = tfx.dsl.experimental.RuntimeParameter(name="word", ptype=str, default="hi")
    return tfx.dsl.Pipeline(
        pipeline_name="runtime", pipeline_root=root, components=[Repeat(word=word, times=times)], enable_cache=True
    )


def _run(root: str, **values: object):
    return tfx.orchestration.LocalDagRunner().run(_pipeline(root), runtime_parameters=values).nodes["Repeat"]


def test_values_come_from_the_run_else_the_default_and_count_in_the_cache_key(pipeline_root):
    first = _run(pipeline_root)
    assert first.outputs["out"][0].value == "hi hi"
    assert _run(pipeline_root, times=2).status == "cached"
    given = _run(pipeline_root, times=3, word="yo")
    assert given.status == "ran" and given.outputs["out"][0].value == "yo yo yo"
    assert _run(pipeline_root, times="3", word="yo").status == "cached"  # text, as from a command line


@pytest.mark.slow
def test_the_beam_runner_takes_them_too(pipeline_root):
    result = tfx.orchestration.BeamDagRunner().run(_pipeline(pipeline_root), runtime_parameters={"times": 1})
    assert result.nodes["Repeat"].outputs["out"][0].value == "hi"


@pytest.mark.parametrize(
    ("values", "default", "message"),
    [
        ({"times": "many"}, 2, r"parameter 'times': RuntimeParameter\('times', int, default=2\): expected int, got str 'many'"),
        ({"tims": 3}, 2, r"runtime parameter 'tims' was given but no node uses it \(declared: \['times', 'word'\]\)"),
        ({}, None, r"RuntimeParameter\('times', int, default=None\): no value given and no default"),
    ],
)
def test_wrong_or_missing_values_are_compile_errors(pipeline_root, values, default, message):
    with pytest.raises(CompileError, match=message):
        tfx.orchestration.LocalDagRunner().run(_pipeline(pipeline_root, default), runtime_parameters=values)


def test_a_runtime_parameter_of_the_wrong_type_for_its_slot_is_a_compile_error(pipeline_root):
    text = tfx.dsl.experimental.RuntimeParameter(name="times", ptype=str, default="2")
    pipeline = tfx.dsl.Pipeline(pipeline_name="runtime", pipeline_root=pipeline_root, components=[Repeat(word="a", times=text)])
    with pytest.raises(CompileError, match="parameter 'times'.*expected int, got str '2'"):
        tfx.orchestration.LocalDagRunner().run(pipeline)


def test_bad_declarations_are_refused():
    with pytest.raises(DefinitionError, match="ptype must be int, float or str"):
        tfx.dsl.experimental.RuntimeParameter(name="x", ptype=list)
    with pytest.raises(DefinitionError, match="default 'a' is not a int"):
        tfx.dsl.experimental.RuntimeParameter(name="x", ptype=int, default="a")
