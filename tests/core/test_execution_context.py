"""ExecutionContext.make_beam_pipeline: the pipeline's Beam options, except that a small input
does not pay for multi_processing workers that would each import TensorFlow again, and
in-process pipelines pickle with cloudpickle."""

from __future__ import annotations

import pytest

from pipelinekit.dsl import context as context_module
from pipelinekit.dsl.context import ExecutionContext

MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=0"]


def _context(args: list[str], input_bytes: int) -> ExecutionContext:
    return ExecutionContext("p", "/root", "Evaluator", "run", 1, "/tmp", args, input_bytes)


def test_a_small_input_runs_in_this_process_and_says_so(caplog):
    with caplog.at_level("INFO", logger="pipelinekit.node.Evaluator"):
        args = _context([*MULTI, "--experiments=x"], input_bytes=300_000)._effective_args([*MULTI, "--experiments=x"])
    assert args == ["--experiments=x", "--direct_running_mode=in_memory"]
    assert "input is 0.3 MB" in caplog.text


@pytest.mark.parametrize(
    "args, input_bytes",
    [
        (MULTI, 10 * context_module.SMALL_INPUT_BYTES),  # big enough to be worth the workers
        (["--runner=FlinkRunner", *MULTI], 1),  # another runner: its options are its own
        (["--direct_running_mode=multi_threading"], 1),  # not multi_processing
    ],
)
def test_other_cases_keep_the_options_as_given(args, input_bytes):
    assert _context(args, input_bytes)._effective_args(list(args)) == args


def test_the_threshold_zero_always_honours_the_mode(monkeypatch):
    monkeypatch.setattr(context_module, "SMALL_INPUT_BYTES", 0)
    assert _context(MULTI, 1)._effective_args(list(MULTI)) == MULTI


def test_the_pipeline_it_makes_uses_the_effective_options():
    pipeline = _context(MULTI, 10).make_beam_pipeline()
    options = pipeline.options.get_all_options()
    assert options["direct_running_mode"] == "in_memory"
    assert options["pickle_library"] == "cloudpickle"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--direct_num_workers=1"], ["--direct_num_workers=1", "--pickle_library=cloudpickle"]),
        (["--runner=DirectRunner"], ["--runner=DirectRunner", "--pickle_library=cloudpickle"]),
        (["--pickle_library=dill"], ["--pickle_library=dill"]),  # the pipeline's own choice wins
        (["--runner=FlinkRunner"], ["--runner=FlinkRunner"]),  # a cluster's workers keep Beam's default
    ],
)
def test_in_process_pipelines_pickle_with_cloudpickle_unless_told_otherwise(args, expected):
    from pipelinekit.dsl.beam_pickling import with_fast_pickler

    assert with_fast_pickler(list(args)) == expected


def test_an_explicit_pickle_library_reaches_the_pipeline():
    pipeline = _context(["--pickle_library=dill"], 10).make_beam_pipeline()
    assert pipeline.options.get_all_options()["pickle_library"] == "dill"
