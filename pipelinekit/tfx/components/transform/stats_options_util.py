"""TFX's ``tfx.components.transform.stats_options_util``: ``StatsType``
(``pipelinekit.components.transform.stats_options``)."""

from pipelinekit.components.transform.stats_options import StatsType

__all__ = ["StatsType"]
