"""Running a pipeline one node at a time, each node's inputs taken from the results of earlier
calls: what a notebook does, one cell per component (TFX's ``InteractiveContext``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pipelinekit.compile.compiler import compile_pipeline
from pipelinekit.dsl.metadata_config import MetadataConfig
from pipelinekit.dsl.node import Node
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.errors import RunError
from pipelinekit.orchestration.driver import drive
from pipelinekit.orchestration.listener import RunListener
from pipelinekit.orchestration.result import NodeResult, RunResult
from pipelinekit.orchestration.session import RunSession

__all__ = ["InteractiveRunner"]

logger = logging.getLogger(__name__)


class InteractiveRunner:
    """Runs single nodes against one pipeline root and ML Metadata store.

    ``run(node)`` runs ``node`` alone, as a run of its own, with the artifacts its upstream
    nodes gave in this runner's latest ``run`` of each of them; an upstream node not run yet is
    an error naming it (nothing is run behind the caller's back). After a run the node's output
    channels hold its artifacts (``node.outputs[key].get()``). The cache works as in a pipeline
    run: a node run again with the same inputs, parameters and code reuses its outputs.
    """

    def __init__(
        self,
        pipeline_name: str,
        pipeline_root: str,
        metadata: MetadataConfig | str | None = None,
        beam_pipeline_args: Sequence[str] = (),
        listener: RunListener | None = None,
    ) -> None:
        self.pipeline_name = pipeline_name
        self.pipeline_root = pipeline_root
        self.metadata = metadata
        self.beam_pipeline_args = tuple(beam_pipeline_args)
        self.listener = listener
        self._latest: dict[int, tuple[Node, NodeResult]] = {}  # by id(node): the node kept alive, so ids stay unique

    def run(self, node: Node, enable_cache: bool = True, beam_pipeline_args: Sequence[str] | None = None) -> RunResult:
        """Run ``node`` once, as its own run; raises ``RunError`` if it failed or if an upstream
        node has not been run by this runner. Returns the run's result (``.nodes[node.id]``)."""
        args = self.beam_pipeline_args if beam_pipeline_args is None else tuple(beam_pipeline_args)
        pipeline = Pipeline(self.pipeline_name, self.pipeline_root, [node], self.metadata, enable_cache, args)
        plan = compile_pipeline(pipeline)
        upstream = {node_id: self._result_of(plan.nodes[node_id], node) for node_id in plan.upstream[node.id]}

        def settle(session: RunSession) -> None:
            session.results.update(upstream)
            session.run_node(node.id)
            for node_id in upstream:  # the run's record and result list only the node that ran
                del session.results[node_id]

        result = drive(plan, self.listener, settle)
        result.raise_for_failure()
        outcome = result.nodes[node.id]
        self._latest[id(node)] = (node, outcome)
        for key, channel in node.outputs.items():
            channel.set_artifacts(outcome.outputs.get(key, []))
        logger.info("%s %s (%s)", node.id, outcome.status, outcome.reason)
        return result

    def result_of(self, node: Node) -> NodeResult | None:
        """The result of this runner's latest run of ``node``, or None if it has not run it."""
        kept = self._latest.get(id(node))
        return kept[1] if kept is not None and kept[0] is node else None

    def _result_of(self, upstream: Node, node: Node) -> NodeResult:
        result = self.result_of(upstream)
        if result is None:
            raise RunError(
                f"cannot run {node.id!r}: its upstream component {upstream.id!r} has not been run in this "
                f"interactive context; run it first with context.run(...) on that component"
            )
        return result
