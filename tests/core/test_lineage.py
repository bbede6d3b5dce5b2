"""Lineage queries, checked against a traversal written with the raw ml_metadata API."""

from __future__ import annotations

import pytest
from ml_metadata.proto import metadata_store_pb2
from mlmd_helpers import raw_store
from test_runners import diamond

from pipelinekit import LocalDagRunner
from pipelinekit.errors import MetadataError
from pipelinekit.metadata import MetadataStore, downstream, latest_output, render, upstream


def raw_ancestors(store, artifact_id: int) -> tuple[set[int], set[int]]:
    """Artifacts and COMPLETE executions upstream of an artifact, straight from MLMD events."""
    artifacts, executions, pending = {artifact_id}, set(), [artifact_id]
    while pending:
        events = store.get_events_by_artifact_ids([pending.pop()])
        producers = [e.execution_id for e in events if e.type == metadata_store_pb2.Event.OUTPUT]
        for execution in store.get_executions_by_id(producers):
            if execution.last_known_state != metadata_store_pb2.Execution.COMPLETE:
                continue
            executions.add(execution.id)
            for event in store.get_events_by_execution_ids([execution.id]):
                if event.type == metadata_store_pb2.Event.INPUT and event.artifact_id not in artifacts:
                    artifacts.add(event.artifact_id)
                    pending.append(event.artifact_id)
    return artifacts, executions


@pytest.fixture
def two_runs(pipeline_root):
    LocalDagRunner().run(diamond(pipeline_root))
    second = LocalDagRunner().run(diamond(pipeline_root, factor_b=7.0))
    return pipeline_root, second


def test_upstream_matches_the_raw_mlmd_graph(two_runs):
    pipeline_root, result = two_runs
    total = result.output("combine", "total")
    store = MetadataStore(diamond(pipeline_root).metadata)
    step = upstream(store, total.id)
    expected_artifacts, expected_executions = raw_ancestors(raw_store(pipeline_root), total.id)
    assert step.artifact_ids() == expected_artifacts
    assert step.execution_ids() == expected_executions
    assert len(expected_artifacts) == 4  # total, both scaled, generated numbers


def test_upstream_follows_the_original_producer_of_a_cached_artifact(two_runs):
    pipeline_root, result = two_runs
    store = MetadataStore(diamond(pipeline_root).metadata)
    left = result.output("a", "scaled")  # reused from the first run
    [(producer, _)] = upstream(store, left.id).executions
    assert producer.state == "COMPLETE" and producer.node_id == "a"
    assert producer.properties["run_id"] != result.run_id


def test_downstream_lists_every_execution_that_made_something_new(two_runs):
    pipeline_root, result = two_runs
    store = MetadataStore(diamond(pipeline_root).metadata)
    source = result.output("generate", "numbers")
    step = downstream(store, source.id)
    consumers = sorted(record.node_id for record, _ in step.executions)
    assert consumers == ["a", "b", "b"]  # b ran twice (two factors); a ran once, then was cached
    text = render(step, "downstream")
    assert "read by scale execution" in text and "(see above)" in text


def test_latest_output_and_unknown_ids(two_runs):
    pipeline_root, result = two_runs
    store = MetadataStore(diamond(pipeline_root).metadata)
    assert latest_output(store, "diamond", "combine", "total").id == result.output("combine", "total").id
    with pytest.raises(MetadataError, match="no published output 'model' of node 'trainer'"):
        latest_output(store, "diamond", "trainer", "model")
    with pytest.raises(MetadataError, match="no artifact with id 999"):
        upstream(store, 999)
