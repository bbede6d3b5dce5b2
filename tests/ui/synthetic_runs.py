"""Runs written straight through the metadata layer, as the runners record them, for scale tests and
bench/ui_bench.py: many runs for the runs list, and one long chain of executions for the lineage."""

from __future__ import annotations

import time
from typing import Any

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
    run_context = start_run(store, pipeline, run_id)
    previous: list = []
    for index in range(artifacts // per_node):
        node_id = f"node_{index:04d}"
        made = [(Examples if n % 2 == 0 else ExampleStatistics)(f"{root}/{run_id}/{node_id}/out/{n}") for n in range(per_node)]
        add_node(store, pipeline, run_id, run_context, node_id, {"examples": previous} if previous else {}, {"out": made})
        previous = made
    return run_id


def start_run(store: MetadataStore, pipeline: str, run_id: str) -> Any:
    """A finished run's context."""
    now = time.time()
    return store.start_run(pipeline, run_id, {"status": "COMPLETE", "started_at": now, "finished_at": now + 1})


def add_node(
    store: MetadataStore, pipeline: str, run_id: str, run_context: Any, node_id: str, inputs: dict, outputs: dict
) -> None:
    """One finished execution of ``node_id`` in the run that read ``inputs`` and wrote ``outputs``."""
    now = time.time()
    contexts = [store.context(PIPELINE, pipeline), run_context, store.context(NODE, node_context_name(pipeline, node_id))]
    properties = {
        "node_id": node_id,
        "run_id": run_id,
        "started_at": now,
        "finished_at": now + 0.01,
        "reason": "first run of this node",
    }
    execution_id = store.register_execution("Synthetic", contexts, inputs, properties)
    for key, artifacts in outputs.items():
        for artifact in artifacts:
            artifact.set_custom_property("producer_node", node_id)
            artifact.set_custom_property("output_key", key)
    store.publish_execution(execution_id, contexts, outputs, {})
