"""``pipelinekit run FILE --pin-span NODE=SPAN``: run a pipeline on the spans a model trained on.

Sets the ExampleGen node's ``range_config`` to ``static_range {start_span_number: SPAN,
end_span_number: SPAN}``, as a pipeline file would; and records the pipeline file in the run's
``pipeline_run`` context, so ``pipelinekit models rollback`` can print the command again later.
"""

from __future__ import annotations

import logging
import os

from pipelinekit.compile.plan import Plan
from pipelinekit.dsl.node import did_you_mean
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.errors import DefinitionError, MetadataError
from pipelinekit.metadata.store import PIPELINE_RUN, MetadataStore

__all__ = ["pin_spans", "record_pipeline_file"]

logger = logging.getLogger(__name__)


def pin_spans(pipeline: Pipeline, pins: list[str]) -> None:
    """Apply ``NODE=SPAN`` pins to the pipeline's ExampleGen nodes, or raise naming the bad one."""
    from google.protobuf import json_format

    from pipelinekit.proto import range_config_pb2

    nodes = {node.id: node for node in pipeline.all_nodes()}
    for pin in pins:
        node_id, _, span = pin.partition("=")
        if not span.isdigit():
            raise DefinitionError(f"--pin-span {pin!r}: write NODE=SPAN with a whole-number span, e.g. CsvExampleGen=3")
        if node_id not in nodes:
            raise DefinitionError(
                f"--pin-span {pin!r}: pipeline {pipeline.pipeline_name!r} has no node {node_id!r}{did_you_mean(node_id, list(nodes))}"
            )
        node = nodes[node_id]
        if "range_config" not in node.definition.spec.parameters:
            raise DefinitionError(
                f"--pin-span {pin!r}: node {node_id!r} ({node.definition.name}) is not an ExampleGen; it has no range_config"
            )
        config = range_config_pb2.RangeConfig()
        config.static_range.start_span_number = config.static_range.end_span_number = int(span)
        node.given_parameters["range_config"] = json_format.MessageToJson(config, indent=None)


def record_pipeline_file(plan: Plan, run_id: str, path: str) -> None:
    """Note the pipeline file in the run's context (best effort: the run itself is already recorded)."""
    from pipelinekit.registry.records import run_context
    from pipelinekit.registry.rerun import PIPELINE_FILE

    try:
        store = MetadataStore(plan.metadata)
        context = run_context(store, plan.pipeline_name, run_id)
        if context is not None:
            store.update_context(PIPELINE_RUN, context.name, {PIPELINE_FILE: os.path.abspath(path)})
    except MetadataError as error:
        logger.warning("could not record the pipeline file of run %s: %s", run_id, error)
