"""BeamDagRunner at 100 nodes: Beam's fixed cost is paid once per run, not once per node or
layer, and a wide fan-out keeps every worker busy. Read from the times recorded in MLMD."""

from __future__ import annotations

from test_beam_runner import most_at_once, spans
from toy_components import generate, scale

from pipelinekit import BeamDagRunner, Pipeline


def chain(root: str, length: int) -> Pipeline:
    node = generate(count=3)
    for index in range(length - 1):
        key = "numbers" if index == 0 else "scaled"
        node = scale(numbers=node.outputs[key], factor=1.0).with_id(f"s{index}")
    return Pipeline("deep", root, [node])


def test_a_100_deep_chain_pays_beams_cost_once_not_per_node(pipeline_root, monkeypatch):
    import apache_beam

    stages = []
    real_flat_map = apache_beam.FlatMap

    def counting_flat_map(*args, **kwargs):
        stages.append(args[0])
        return real_flat_map(*args, **kwargs)

    monkeypatch.setattr(apache_beam, "FlatMap", counting_flat_map)
    result = BeamDagRunner().run(chain(pipeline_root, 100))
    result.raise_for_failure()
    times = spans(pipeline_root)
    order = ["generate"] + [f"s{i}" for i in range(99)]
    gaps = [times[after][0] - times[before][1] for before, after in zip(order, order[1:])]
    assert min(gaps) >= 0, "a node started before its input was published"
    # by layers, every node was a Beam stage of its own (about 10 s of overhead for this chain);
    # the time itself is measured by bench/core_bench.py, not asserted here
    assert len(stages) == 1, f"{len(stages)} Beam stages for one run"


def test_a_100_wide_fan_out_keeps_every_worker_busy(pipeline_root):
    source = generate(count=3)
    fan = [scale(numbers=source.outputs["numbers"], delay=0.02).with_id(f"s{i}") for i in range(99)]
    BeamDagRunner(max_parallel=4).run(Pipeline("wide", pipeline_root, fan)).raise_for_failure()
    times = spans(pipeline_root)
    assert most_at_once([times[f"s{i}"] for i in range(99)]) == 4
    assert all(times[f"s{i}"][0] >= times["generate"][1] for i in range(99))
