"""TFX's runners on pipelinekit's: like TFX's, ``run`` raises when a component failed
(pipelinekit's own runners return the RunResult and leave that to the caller)."""

from __future__ import annotations

from typing import Any

from pipelinekit.orchestration import BeamDagRunner as _BeamDagRunner
from pipelinekit.orchestration import LocalDagRunner as _LocalDagRunner

__all__ = ["LocalDagRunner", "SerialDagRunner", "BeamDagRunner"]


class _RaisesOnFailure:
    """``run`` returns the RunResult, after raising if a component failed (TFX's behaviour)."""

    def run(self, pipeline: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().run(pipeline, *args, **kwargs)  # type: ignore[misc]  # a mixin: the runner class after it has run
        result.raise_for_failure()
        return result


class LocalDagRunner(_RaisesOnFailure, _BeamDagRunner):
    """``tfx.orchestration.LocalDagRunner``: TFX's name, pipelinekit's runner underneath, so
    independent nodes run at the same time (TFX's runs them one after another); everything
    still runs in this process. ``SerialDagRunner`` runs them one by one, for debugging."""


class SerialDagRunner(_RaisesOnFailure, _LocalDagRunner):
    """pipelinekit's serial runner (nodes one after another, in this thread), raising on failure."""


class BeamDagRunner(_RaisesOnFailure, _BeamDagRunner):
    """pipelinekit's Beam runner (independent branches in parallel), raising on failure."""
