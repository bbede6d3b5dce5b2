"""The monitor's errors, in pipelinekit's hierarchy."""

from __future__ import annotations

from pipelinekit.errors import DefinitionError, RunError

__all__ = ["MonitorConfigError", "MonitorBusyError", "LabelsError"]


class MonitorConfigError(DefinitionError):
    """The monitor's config or policy file is wrong; the message names the file and the field."""


class MonitorBusyError(RunError):
    """Another monitor holds the state folder: two at once would count requests twice."""


class LabelsError(RunError):
    """A labels file cannot be read at all (one bad line is reported, not raised)."""
