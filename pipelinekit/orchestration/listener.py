"""Run listeners: how progress of a run is reported (logging by default, a live table in the CLI)."""

from __future__ import annotations

import logging
from typing import Protocol

from pipelinekit.orchestration.result import NodeResult

__all__ = ["RunListener", "LoggingListener"]

logger = logging.getLogger("pipelinekit.run")


class RunListener(Protocol):
    """Receives node events; called from runner threads, so implementations must be thread-safe."""

    def node_started(self, node_id: str, reason: str) -> None: ...

    def node_finished(self, result: NodeResult) -> None: ...


class LoggingListener:
    """Reports each node start and finish through the ``pipelinekit.run`` logger."""

    def node_started(self, node_id: str, reason: str) -> None:
        logger.info("%s: running (%s)", node_id, reason)

    def node_finished(self, result: NodeResult) -> None:
        level = logging.ERROR if result.status == "failed" else logging.INFO
        logger.log(level, "%s: %s in %.2fs (%s)", result.node_id, result.status, result.duration, result.reason)
