"""TFX's runners on pipelinekit's: like TFX's, ``run`` raises when a component failed
(pipelinekit's own runners return the RunResult and leave that to the caller)."""

from __future__ import annotations

from typing import Any

from pipelinekit.orchestration import BeamDagRunner as _BeamDagRunner
from pipelinekit.orchestration import LocalDagRunner as _LocalDagRunner

__all__ = ["LocalDagRunner", "BeamDagRunner"]


class LocalDagRunner(_LocalDagRunner):
    """``tfx.orchestration.LocalDagRunner``: runs the nodes in order in this process."""

    def run(self, pipeline: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().run(pipeline, *args, **kwargs)
        result.raise_for_failure()
        return result


class BeamDagRunner(_BeamDagRunner):
    """pipelinekit's Beam runner (independent branches in parallel), raising on failure."""

    def run(self, pipeline: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().run(pipeline, *args, **kwargs)
        result.raise_for_failure()
        return result
