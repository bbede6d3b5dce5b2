"""``tfx.orchestration.LocalDagRunner`` keeps TFX's name but runs independent nodes in parallel."""

from __future__ import annotations

from toy_components import combine, generate, scale

from pipelinekit import Pipeline, tfx


def _diamond(root: str) -> Pipeline:
    numbers = generate(count=3)
    left = scale(numbers=numbers.outputs["numbers"], factor=2.0, delay=1.0).with_id("left")
    right = scale(numbers=numbers.outputs["numbers"], factor=3.0, delay=1.0).with_id("right")
    return Pipeline("tfx_runner", root, [combine(left=left.outputs["scaled"], right=right.outputs["scaled"])])


def _overlap(result) -> float:
    left, right = result.nodes["left"], result.nodes["right"]
    return min(left.finished_at, right.finished_at) - max(left.started_at, right.started_at)


def test_the_tfx_local_runner_runs_independent_branches_at_once(pipeline_root):
    result = tfx.orchestration.LocalDagRunner().run(_diamond(pipeline_root))
    assert _overlap(result) > 0.5, "left and right should have run at the same time"


def test_the_serial_runner_runs_them_one_after_another(tmp_path):
    result = tfx.orchestration.SerialDagRunner().run(_diamond(str(tmp_path / "serial")))
    assert _overlap(result) < 0
