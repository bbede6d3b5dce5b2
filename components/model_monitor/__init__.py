"""ModelMonitor: one monitoring window of a served model's request logs, as a pipeline node."""

from pipelinekit.components.model_monitor.component import ModelMonitor

__all__ = ["ModelMonitor"]
