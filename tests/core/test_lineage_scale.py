"""Lineage queries read as much from MLMD after many cached runs as after one (issue 6, item 15):
every cached rerun adds executions and events on the same artifacts, and lineage must not read them."""

from __future__ import annotations

from collections import Counter

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from mlmd_helpers import raw_store
from test_lineage import raw_ancestors
from test_runners import diamond
from toy_components import combine, generate, scale

from pipelinekit import LocalDagRunner, Pipeline
from pipelinekit.metadata import MetadataStore, downstream, upstream

READS = [
    "get_executions",
    "get_executions_by_id",
    "get_executions_by_context",
    "get_artifacts",
    "get_artifacts_by_id",
    "get_artifacts_by_context",
    "get_events_by_artifact_ids",
    "get_events_by_execution_ids",
]


@pytest.fixture
def reads(monkeypatch) -> Counter:
    """Rows each raw ml_metadata read returns, counted per method, for every store in the process."""
    counts: Counter = Counter()
    for name in READS:
        original = getattr(metadata_store.MetadataStore, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            rows = _original(self, *args, **kwargs)
            counts[_name] += len(rows)
            return rows

        monkeypatch.setattr(metadata_store.MetadataStore, name, counted)
    return counts


def query(store: MetadataStore, reads: Counter, artifact_ids: tuple[int, int]) -> tuple[Counter, tuple]:
    reads.clear()
    up, down = upstream(store, artifact_ids[0]), downstream(store, artifact_ids[1])
    shape = (up.artifact_ids(), up.execution_ids(), down.artifact_ids(), down.execution_ids())
    return Counter(reads), shape


def test_lineage_reads_the_same_rows_after_many_cached_runs_as_after_one(pipeline_root, reads):
    LocalDagRunner().run(diamond(pipeline_root))
    result = LocalDagRunner().run(diamond(pipeline_root, factor_b=7.0))
    ids = (result.output("combine", "total").id, result.output("generate", "numbers").id)
    store = MetadataStore(diamond(pipeline_root).metadata)
    rows_before, shape_before = query(store, reads, ids)

    for _ in range(15):
        LocalDagRunner().run(diamond(pipeline_root, factor_b=7.0))
    events = raw_store(pipeline_root).get_events_by_artifact_ids([ids[1]])
    assert len(events) >= 2 * 17, "the cached runs should have recorded their inputs"
    rows_after, shape_after = query(store, reads, ids)

    assert shape_after == shape_before
    assert rows_after == rows_before, f"lineage reads grew with history: {rows_before} -> {rows_after}"
    assert shape_before[:2] == raw_ancestors(raw_store(pipeline_root), ids[0])


def test_an_artifact_read_under_two_keys_is_one_consumer(pipeline_root):
    g = generate(count=3)
    a = scale(numbers=g.outputs["numbers"]).with_id("a")
    twice = combine(left=a.outputs["scaled"], right=a.outputs["scaled"])
    result = LocalDagRunner().run(Pipeline("twice", pipeline_root, [twice]))
    store = MetadataStore(diamond(pipeline_root).metadata)
    step = downstream(store, result.output("a", "scaled").id)
    [(record, groups)] = step.executions
    assert record.node_id == "combine" and list(groups) == ["total"]
    [(producer, inputs)] = upstream(store, result.output("combine", "total").id).executions
    # MLMD keeps one event per (artifact, execution, type), so only the first key is recorded
    assert producer.node_id == "combine" and [step.artifact.id for steps in inputs.values() for step in steps] == [step.artifact.id]


def test_an_artifact_without_a_complete_producer_shows_its_first_producer(pipeline_root):
    result = LocalDagRunner().run(Pipeline("orphan", pipeline_root, [generate()]))
    store = MetadataStore(diamond(pipeline_root).metadata)
    raw = store.raw
    [published] = raw.get_artifacts_by_id([result.output("generate", "numbers").id])
    [orphan_id] = raw.put_artifacts([metadata_store_pb2.Artifact(type_id=published.type_id, uri=f"{pipeline_root}/orphan")])
    [generate_execution] = raw.get_executions_by_id([result.nodes["generate"].execution_id])
    producers = []
    for _ in range(2):  # two CACHED executions claim it; none COMPLETE
        execution = metadata_store_pb2.Execution(
            type_id=generate_execution.type_id, last_known_state=metadata_store_pb2.Execution.CACHED
        )
        execution.custom_properties["node_id"].string_value = "generate"
        [execution_id] = raw.put_executions([execution])
        raw.put_events([metadata_store_pb2.Event(artifact_id=orphan_id, execution_id=execution_id, type=metadata_store_pb2.Event.OUTPUT)])
        producers.append(execution_id)
    [(producer, _)] = upstream(store, orphan_id).executions
    assert (producer.id, producer.state) == (min(producers), "CACHED")
