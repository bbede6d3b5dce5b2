"""InfraValidator: proves a model loads and answers in a TF-Serving-compatible server."""

from pipelinekit.components.infra_validator.component import InfraValidator

__all__ = ["InfraValidator"]
