"""StatisticsGen: TFDV statistics per split of an Examples artifact."""

from pipelinekit.components.statistics_gen.component import StatisticsGen

__all__ = ["StatisticsGen"]
