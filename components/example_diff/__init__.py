"""ExampleDiff: example-by-example differences of two Examples artifacts, with TFDV's skew detector."""

from pipelinekit.components.example_diff.component import ExampleDiff

__all__ = ["ExampleDiff"]
