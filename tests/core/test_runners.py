"""Running pipelines for real: MLMD on SQLite, Beam's DirectRunner, files on disk."""

from __future__ import annotations

import os

import pytest
from ml_metadata.proto import metadata_store_pb2
from mlmd_helpers import executions_of, raw_store, state_name
from toy_components import Numbers, combine, generate, read_numbers, scale, write_numbers

from pipelinekit import (
    BeamDagRunner,
    ExecutionContext,
    InputArtifact,
    LocalDagRunner,
    OutputArtifact,
    Parameter,
    Pipeline,
    component,
)
from pipelinekit.errors import RunError


def diamond(root: str, factor_b: float = 3.0, delay: float = 0.0, count: int = 4) -> Pipeline:
    g = generate(count=count)
    a = scale(numbers=g.outputs["numbers"], factor=2.0, delay=delay).with_id("a")
    b = scale(numbers=g.outputs["numbers"], factor=factor_b, delay=delay).with_id("b")
    c = combine(left=a.outputs["scaled"], right=b.outputs["scaled"])
    return Pipeline("diamond", root, [c])


def statuses(result) -> dict[str, str]:
    return {node_id: r.status for node_id, r in result.nodes.items()}


@pytest.mark.slow
def test_beam_runner_runs_independent_branches_concurrently(pipeline_root):
    result = BeamDagRunner().run(diamond(pipeline_root, delay=1.5))
    assert statuses(result) == {"generate": "ran", "a": "ran", "b": "ran", "combine": "ran"}
    assert read_numbers(result.output("combine", "total")) == [0.0, 5.0, 10.0, 15.0]
    store = raw_store(pipeline_root)
    [a], [b] = executions_of(store, "a"), executions_of(store, "b")
    spans = [(e.custom_properties["started_at"].double_value, e.custom_properties["finished_at"].double_value) for e in (a, b)]
    assert max(start for start, _ in spans) < min(end for _, end in spans), f"branches did not overlap: {spans}"
    assert {state_name(a), state_name(b)} == {"COMPLETE"}


@pytest.mark.slow
def test_a_second_beam_run_is_fully_cached_and_recorded(pipeline_root):
    first = BeamDagRunner().run(diamond(pipeline_root))
    second = BeamDagRunner().run(diamond(pipeline_root))
    assert set(statuses(second).values()) == {"cached"}
    assert second.output("combine", "total").id == first.output("combine", "total").id
    assert all(r.reason.startswith("cache hit") for r in second.nodes.values())
    store = raw_store(pipeline_root)
    assert sorted(state_name(e) for e in executions_of(store, "combine")) == ["CACHED", "COMPLETE"]
    runs = store.get_contexts_by_type("pipeline_run")
    assert len(runs) == 2 and {r.custom_properties["status"].string_value for r in runs} == {"COMPLETE"}


def test_changing_one_parameter_reruns_that_node_and_its_downstream_only(pipeline_root):
    LocalDagRunner().run(diamond(pipeline_root))
    result = LocalDagRunner().run(diamond(pipeline_root, factor_b=10.0))
    assert statuses(result) == {"generate": "cached", "a": "cached", "b": "ran", "combine": "ran"}
    assert result.nodes["b"].reason == "parameter 'factor' changed"
    assert result.nodes["combine"].reason == "input 'right' changed"
    assert read_numbers(result.output("combine", "total")) == [0.0, 12.0, 24.0, 36.0]


PIPELINE_FILE = '''
import json, os
from pipelinekit import Artifact, InputArtifact, OutputArtifact, Parameter, Pipeline, component

class Numbers(Artifact):
    """Numbers."""

OFFSET = 1

def helper(values):
    return [v + OFFSET for v in values]

def save(artifact, values):
    with open(os.path.join(artifact.uri, "values.json"), "w") as f:
        json.dump(values, f)

def load(artifact):
    with open(os.path.join(artifact.uri, "values.json")) as f:
        return json.load(f)

@component
def source(out: OutputArtifact[Numbers]):
    save(out, [1, 2, 3])

@component
def left(numbers: InputArtifact[Numbers], out: OutputArtifact[Numbers]):
    save(out, [v * 2 for v in load(numbers)])

@component
def right(numbers: InputArtifact[Numbers], out: OutputArtifact[Numbers]):
    save(out, helper(load(numbers)))

@component
def join(a: InputArtifact[Numbers], b: InputArtifact[Numbers], out: OutputArtifact[Numbers]):
    save(out, load(a) + load(b))

s = source()
l = left(numbers=s.outputs["out"])
r = right(numbers=s.outputs["out"])
pipeline = Pipeline("code", ROOT, [join(a=l.outputs["out"], b=r.outputs["out"])])
'''


def run_file(path: str):
    from pipelinekit import load_pipeline

    return LocalDagRunner().run(load_pipeline(path))


def test_a_code_change_reruns_exactly_the_changed_component_and_downstream(pipeline_root, tmp_path):
    path = tmp_path / "code_pipeline.py"
    path.write_text(PIPELINE_FILE.replace("ROOT", repr(pipeline_root)))
    assert set(statuses(run_file(str(path))).values()) == {"ran"}

    path.write_text(path.read_text().replace("v * 2 for v", "v * 3 for v"))
    result = run_file(str(path))
    assert statuses(result) == {"source": "cached", "left": "ran", "right": "cached", "join": "ran"}
    assert result.nodes["left"].reason == "code changed"

    path.write_text(path.read_text().replace("OFFSET = 1", "OFFSET = 2"))  # a constant only `right` uses, via helper
    result = run_file(str(path))
    assert statuses(result) == {"source": "cached", "left": "cached", "right": "ran", "join": "ran"}
    assert read_numbers(result.output("join", "out")) == [3, 6, 9, 3, 4, 5]


@component
def maybe_fail(numbers: InputArtifact[Numbers], result: OutputArtifact[Numbers], fail: Parameter[bool] = False) -> None:
    write_numbers(result, read_numbers(numbers))
    if fail:
        raise ValueError("bad row 3 in the input")


def failing(root: str, fail: bool) -> Pipeline:
    g = generate(count=3)
    m = maybe_fail(numbers=g.outputs["numbers"], fail=fail)
    after = scale(numbers=m.outputs["result"]).with_id("after")
    return Pipeline("failing", root, [after])


def test_a_failing_node_publishes_nothing_skips_downstream_and_a_rerun_resumes(pipeline_root):
    result = LocalDagRunner().run(failing(pipeline_root, fail=True))
    assert statuses(result) == {"generate": "ran", "maybe_fail": "failed", "after": "skipped"}
    failure = result.nodes["maybe_fail"]
    assert "node 'maybe_fail'" in str(failure.error) and "ValueError: bad row 3 in the input" in str(failure.error)
    assert isinstance(failure.error.__cause__, ValueError)
    assert "test_runners.py" in failure.user_traceback and "pipelinekit/orchestration" not in failure.user_traceback
    assert result.nodes["after"].reason == "upstream node 'maybe_fail' failed"
    with pytest.raises(RunError, match="maybe_fail.*skipped because of it: after.*finished nodes are cached"):
        result.raise_for_failure()

    store = raw_store(pipeline_root)
    [execution] = executions_of(store, "maybe_fail")
    assert state_name(execution) == "FAILED"
    assert "bad row 3" in execution.custom_properties["error"].string_value
    events = store.get_events_by_execution_ids([execution.id])
    assert [e.type for e in events] == [metadata_store_pb2.Event.INPUT]
    node_dir = os.path.join(pipeline_root, "maybe_fail")
    assert not os.path.exists(os.path.join(node_dir, "result")) and not os.listdir(os.path.join(node_dir))

    resumed = LocalDagRunner().run(failing(pipeline_root, fail=False))
    assert statuses(resumed) == {"generate": "cached", "maybe_fail": "ran", "after": "ran"}


def test_outputs_deleted_from_disk_are_not_reused(pipeline_root):
    first = LocalDagRunner().run(diamond(pipeline_root))
    doomed = first.output("a", "scaled").uri
    os.remove(os.path.join(doomed, "values.json"))
    result = LocalDagRunner().run(diamond(pipeline_root))
    assert result.nodes["a"].status == "ran"
    assert f"were deleted or changed ({doomed})" in result.nodes["a"].reason
    assert result.nodes["combine"].status == "cached"  # same content again, so downstream keys match


def test_cache_can_be_turned_off(pipeline_root):
    LocalDagRunner().run(diamond(pipeline_root))
    pipeline = diamond(pipeline_root)
    pipeline.enable_cache = False
    result = LocalDagRunner().run(pipeline)
    assert set(statuses(result).values()) == {"ran"}
    assert {r.reason for r in result.nodes.values()} == {"cache disabled"}


def test_a_replaced_store_never_overwrites_existing_outputs(pipeline_root):
    LocalDagRunner().run(diamond(pipeline_root))
    before = sorted(os.walk(pipeline_root))
    os.rename(os.path.join(pipeline_root, "metadata.sqlite"), os.path.join(pipeline_root, "old.sqlite"))
    result = LocalDagRunner().run(diamond(pipeline_root))
    assert result.nodes["generate"].status == "failed"
    assert "already exists but ML Metadata" in str(result.nodes["generate"].error)
    after = [entry for entry in sorted(os.walk(pipeline_root)) if "sqlite" not in "".join(entry[2])]
    assert [e for e in before if "sqlite" not in "".join(e[2])] == after


def test_a_failed_metadata_write_removes_the_moved_outputs(pipeline_root, monkeypatch):
    from pipelinekit.metadata.store import MetadataStore

    def broken_publish(*args, **kwargs):
        raise OSError("disk full while writing metadata")

    monkeypatch.setattr(MetadataStore, "publish_execution", broken_publish)
    result = LocalDagRunner().run(Pipeline("p", pipeline_root, [generate()]))
    assert result.nodes["generate"].status == "failed"
    assert [files for _, _, files in os.walk(os.path.join(pipeline_root, "generate"))] == [[]]


@component
def beam_squares(squares: OutputArtifact[Numbers], context: ExecutionContext, count: Parameter[int] = 5) -> None:
    import apache_beam as beam

    path = os.path.join(squares.uri, "part")
    with context.make_beam_pipeline() as p:
        _ = p | beam.Create(range(count)) | beam.Map(lambda v: v * v) | beam.io.WriteToText(path, shard_name_template="")
    with open(path) as handle:
        write_numbers(squares, sorted(int(line) for line in handle))
    assert context.node_id == "beam_squares" and context.beam_pipeline_args == ["--direct_num_workers=1"]


@pytest.mark.slow
def test_executors_build_beam_pipelines_from_the_pipeline_args(pipeline_root):
    pipeline = Pipeline("beamy", pipeline_root, [beam_squares(count=4)], beam_pipeline_args=["--direct_num_workers=1"])
    result = BeamDagRunner().run(pipeline)
    result.raise_for_failure()
    assert read_numbers(result.output("beam_squares", "squares")) == [0, 1, 4, 9]


def test_lineage_inputs_of_an_optional_unwired_input_are_none(pipeline_root):
    @component
    def maybe(numbers: InputArtifact[Numbers] | None, out: OutputArtifact[Numbers]) -> None:
        write_numbers(out, [0] if numbers is None else read_numbers(numbers))

    result = LocalDagRunner().run(Pipeline("opt", pipeline_root, [maybe()]))
    assert read_numbers(result.output("maybe", "out")) == [0]
