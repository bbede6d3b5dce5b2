"""``tfx.v1.orchestration``: ``LocalDagRunner`` (and pipelinekit's ``BeamDagRunner``) and ``metadata``."""

from pipelinekit.tfx.orchestration import metadata
from pipelinekit.tfx.orchestration.runners import BeamDagRunner, LocalDagRunner, SerialDagRunner

__all__ = ["LocalDagRunner", "SerialDagRunner", "BeamDagRunner", "metadata"]
