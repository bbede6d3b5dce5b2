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


def _tfx_file_text(root: str) -> str:
    """A TFX pipeline file with this module's component and pipeline, run by TFX's ``__main__`` block."""
    import inspect

    header = "from pipelinekit import tfx\n\nString = tfx.types.standard_artifacts.String\n\n"
    main = f"\nif __name__ == '__main__':\n    tfx.orchestration.LocalDagRunner().run(_pipeline({root!r}))\n"
    return header + inspect.getsource(Repeat) + "\n" + inspect.getsource(_pipeline) + main


@pytest.fixture
def tfx_file(tmp_path, pipeline_root):
    path = tmp_path / "pipeline.py"
    path.write_text(_tfx_file_text(pipeline_root))
    return str(path)


def _cli(*args: str) -> int:
    from pipelinekit.cli import main

    return main(["run", *args, "--runner", "local"])


def _repeat_result(pipeline_file: str, values: dict[str, object]):
    """The same pipeline, loaded as the CLI loads it, run in this process with ``values``: cached
    when the CLI ran it with them."""
    from pipelinekit.dsl.loader import load_pipeline

    pipeline = load_pipeline(pipeline_file)
    return tfx.orchestration.LocalDagRunner().run(pipeline, runtime_parameters=values).nodes["Repeat"]


def test_the_cli_flag_gives_values_by_name_and_the_others_keep_their_defaults(tfx_file):
    assert _cli(tfx_file, "--runtime-parameter", "times=3") == 0
    node = _repeat_result(tfx_file, {"times": 3})
    assert node.status == "cached" and node.outputs["out"][0].value == "hi hi hi"
    assert _cli(tfx_file, "--runtime-parameter", "times=1", "--runtime-parameter", "word=a=b") == 0  # '=' in a value
    assert _repeat_result(tfx_file, {"times": 1, "word": "a=b"}).outputs["out"][0].value == "a=b"


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("times=many", "parameter 'times': RuntimeParameter('times', int, default=2): expected int, got str 'many'"),
        ("tims=3", "runtime parameter 'tims' was given but no node uses it (declared: ['times', 'word'])"),
    ],
)
def test_the_cli_flag_refuses_a_bad_value_or_an_unknown_name(tfx_file, capsys, flag, message):
    assert _cli(tfx_file, "--runtime-parameter", flag) == 2
    error = capsys.readouterr().err
    assert message in error
    if flag.startswith("times="):
        assert "--runtime-parameter times=VALUE" in error


def test_the_cli_flag_must_be_name_equals_value_and_given_once(tfx_file, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _cli(tfx_file, "--runtime-parameter", "times")
    assert exit_info.value.code == 2
    assert "'times' is not NAME=VALUE" in capsys.readouterr().err
    assert _cli(tfx_file, "--runtime-parameter", "times=1", "--runtime-parameter", "times=2") == 2
    assert "--runtime-parameter times is given twice ('1' and '2')" in capsys.readouterr().err


def test_check_takes_the_flag_too(tfx_file, capsys):
    from pipelinekit.cli import main

    assert main(["check", tfx_file, "--runtime-parameter", "times=4"]) == 0
    assert main(["check", tfx_file, "--runtime-parameter", "times=4.5"]) == 2
    assert "expected int, got str '4.5'" in capsys.readouterr().err
