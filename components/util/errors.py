"""Errors the standard components raise, in pipelinekit's hierarchy.

Constructor mistakes are also ``ValueError``s (what TFX raises), so code written against
TFX that catches ``ValueError`` keeps working.
"""

from __future__ import annotations

from pipelinekit.errors import ComponentDefinitionError, RunError

__all__ = ["ComponentArgumentError", "UserModuleError", "InputDataError", "AnomaliesFoundError"]


class ComponentArgumentError(ComponentDefinitionError, ValueError):
    """A standard component was given arguments that do not fit together."""


class UserModuleError(RunError):
    """A user module file (or a dotted ``module.fn`` path) cannot be loaded or lacks a function."""


class InputDataError(RunError):
    """Input data (a CSV, a TFRecord, a schema file) is missing or malformed; the message names it."""


class AnomaliesFoundError(RunError):
    """ExampleValidator found anomalies and was asked to fail the run on them."""
