"""Running plans: the node launcher, cache keys, and the runners."""

from pipelinekit.orchestration.beam_runner import BeamDagRunner
from pipelinekit.orchestration.listener import LoggingListener, RunListener
from pipelinekit.orchestration.local_runner import LocalDagRunner
from pipelinekit.orchestration.result import CACHED, FAILED, RAN, SKIPPED, NodeResult, RunResult

__all__ = [
    "BeamDagRunner",
    "LocalDagRunner",
    "RunListener",
    "LoggingListener",
    "NodeResult",
    "RunResult",
    "RAN",
    "CACHED",
    "FAILED",
    "SKIPPED",
]
