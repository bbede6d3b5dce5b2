"""Runs written straight through the metadata layer, as the runners record them, for scale tests and
bench/ui_bench.py: many runs for the runs list, and one long chain of executions for the lineage."""

from __future__ import annotations

import time

from pipelinekit.metadata.store import NODE, PIPELINE, MetadataStore, node_context_name
from pipelinekit.types.standard import Examples, ExampleStatistics


def add_runs(store: MetadataStore, pipeline: str, count: int) -> list[str]:
    """``count`` finished runs of ``pipeline`` (run contexts with status, times and counts)."""
    store.context(PIPELINE, pipeline)
    ids = []
    start = time.time() - count * 60
    for index in range(count):
        run_id = f"20260101-{index:06d}"
        properties = {"status": "COMPLETE" if index % 10 else "FAILED", "started_at": start + index * 60, "finished_at": start + index * 60 + 12.5,
                      "ran": 3, "cached": 10, "failed": 0 if index % 10 else 1, "skipped": 0}  # fmt: skip
        if index % 10 == 0:
            properties["failed_nodes"] = "Trainer"
        store.start_run(pipeline, run_id, properties)
        ids.append(run_id)
    return ids


def add_chain_run(
    store: MetadataStore, pipeline: str, root: str, artifacts: int, run_id: str = "20260102-000000", per_node: int = 2
) -> str:
    """One run whose nodes form a chain that writes ``artifacts`` artifacts in all: node i reads
    node i-1's outputs and writes ``per_node`` of its own (Examples and ExampleStatistics in turn)."""
    now = time.time()
    run_context = store.start_run(pipeline, run_id, {"status": "COMPLETE", "started_at": now, "finished_at": now + 1})
    pipeline_context = store.context(PIPELINE, pipeline)
    previous: list = []
    for index in range(artifacts // per_node):
        node_id = f"node_{index:04d}"
        contexts = [pipeline_context, run_context, store.context(NODE, node_context_name(pipeline, node_id))]
        properties = {
            "node_id": node_id,
            "run_id": run_id,
            "started_at": now,
            "finished_at": now + 0.01,
            "reason": "first run of this node",
        }
        execution_id = store.register_execution("Synthetic", contexts, {"examples": previous} if previous else {}, properties)
        made = [
            (Examples if n % 2 == 0 else ExampleStatistics)(f"{root}/{node_id}/out/{execution_id}/{n}") for n in range(per_node)
        ]
        for artifact in made:
            artifact.set_custom_property("producer_node", node_id)
            artifact.set_custom_property("output_key", "out")
        store.publish_execution(execution_id, contexts, {"out": made}, {})
        previous = made
    return run_id
