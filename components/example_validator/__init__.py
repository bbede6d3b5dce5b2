"""ExampleValidator: TFDV anomalies of statistics against a schema."""

from components.example_validator.component import ExampleValidator

__all__ = ["ExampleValidator"]
