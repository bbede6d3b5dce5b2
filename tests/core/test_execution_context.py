"""ExecutionContext.make_beam_pipeline: the pipeline's Beam options, except that a small input
does not pay for multi_processing workers that would each import TensorFlow again."""

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
