"""``tfx.v1.orchestration``: ``LocalDagRunner`` (and pipelinekit's ``BeamDagRunner``) ``metadata`` and ``experimental.interactive``."""

from pipelinekit.tfx.orchestration import experimental, metadata
from pipelinekit.tfx.orchestration.runners import BeamDagRunner, LocalDagRunner, SerialDagRunner

__all__ = ["LocalDagRunner", "SerialDagRunner", "BeamDagRunner", "metadata", "experimental"]
