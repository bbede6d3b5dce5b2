"""TFX's ``tfx.components.tuner.component`` as module files import it: ``TunerFnResult``, the
class the Tuner's ``tuner_fn`` returns (the same class as ``pipelinekit.tfx.components.TunerFnResult``)."""

from __future__ import annotations

from pipelinekit.components.tuner.component import TunerFnResult

__all__ = ["TunerFnResult"]
