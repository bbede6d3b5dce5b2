"""LocalDagRunner: runs the nodes one after another in this process; simplest to debug."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelinekit.compile.plan import Plan
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.orchestration.driver import drive
from pipelinekit.orchestration.listener import RunListener
from pipelinekit.orchestration.result import RunResult
from pipelinekit.orchestration.session import RunSession

__all__ = ["LocalDagRunner"]


class LocalDagRunner:
    """Runs a pipeline serially, in dependency order, with the same launcher as the Beam runner.

    Use it in tests and under a debugger: an executor's breakpoint is hit in this thread.
    """

    def __init__(self, listener: RunListener | None = None) -> None:
        self.listener = listener

    def run(self, pipeline: Pipeline | Plan, runtime_parameters: Mapping[str, Any] | None = None) -> RunResult:
        return drive(pipeline, self.listener, _run_in_order, runtime_parameters)


def _run_in_order(session: RunSession) -> None:
    for node_id in session.plan.order:
        session.run_node(node_id)
