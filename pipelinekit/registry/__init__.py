"""The model registry: versions, semantic versions, aliases with their history, rollback, run
comparison; all stored in ML Metadata (ml_metadata is imported on first use)."""

from pipelinekit.registry.records import AliasMove, alias_moves
from pipelinekit.registry.registry import PRODUCTION, ModelVersion, Registry

__all__ = ["Registry", "ModelVersion", "AliasMove", "PRODUCTION", "alias_moves"]
