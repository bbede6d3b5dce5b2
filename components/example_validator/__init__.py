"""ExampleValidator: TFDV anomalies of statistics against a schema."""

from pipelinekit.components.example_validator.component import ExampleValidator

__all__ = ["ExampleValidator"]
