"""Running plans: the node launcher, cache keys, and the runners. What this module exports is
the public orchestration API, the only part of it the standard components may use."""

from pipelinekit.orchestration.beam_runner import BeamDagRunner
from pipelinekit.orchestration.fingerprint import path_fingerprint
from pipelinekit.orchestration.frozen_heap import frozen_heap
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
    "frozen_heap",
    "path_fingerprint",
]
