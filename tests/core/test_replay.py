"""Replaying one node on the inputs an execution recorded: same outputs as the run's, nothing
recorded, and clear errors for what cannot be replayed."""

from __future__ import annotations

import os

import pytest
from mlmd_helpers import raw_store
from test_runners import diamond
from toy_components import read_numbers

from pipelinekit import LocalDagRunner, compile_pipeline
from pipelinekit.errors import RunError
from pipelinekit.orchestration.replay import prepare_replay


def test_a_replay_writes_what_the_run_wrote_and_records_nothing(pipeline_root, tmp_path):
    result = LocalDagRunner().run(diamond(pipeline_root))
    store = raw_store(pipeline_root)
    executions, artifacts = len(store.get_executions()), len(store.get_artifacts())
    replay = prepare_replay(compile_pipeline(diamond(pipeline_root)), "combine", str(tmp_path))
    assert replay.execution_id == result.nodes["combine"].execution_id
    replay.run()
    [total] = replay.outputs["total"]
    assert total.uri.startswith(str(tmp_path))
    assert read_numbers(total) == read_numbers(result.output("combine", "total")) == [0.0, 5.0, 10.0, 15.0]
    assert (len(store.get_executions()), len(store.get_artifacts())) == (executions, artifacts)


def test_a_chosen_execution_is_replayed_with_the_plans_parameters(pipeline_root, tmp_path):
    first = LocalDagRunner().run(diamond(pipeline_root, count=3))
    LocalDagRunner().run(diamond(pipeline_root, count=5))
    plan = compile_pipeline(diamond(pipeline_root, factor_b=10.0))
    replay = prepare_replay(plan, "b", str(tmp_path), execution_id=first.nodes["b"].execution_id)
    replay.run()
    assert read_numbers(replay.outputs["scaled"][0]) == [0.0, 10.0, 20.0]  # the first run's 3 numbers


def test_what_cannot_be_replayed_is_refused_by_name(pipeline_root, tmp_path):
    plan, folder = compile_pipeline(diamond(pipeline_root)), tmp_path / "replay"
    folder.mkdir()
    with pytest.raises(RunError, match=r"no node 'c'; its nodes: a, b, combine, generate"):
        prepare_replay(plan, "c", str(folder))
    with pytest.raises(RunError, match=r"node 'combine' of pipeline 'diamond' has no complete execution .*run the pipeline first"):
        prepare_replay(plan, "combine", str(folder))
    assert not os.listdir(folder)
