"""StatisticsGen: TFDV statistics per split of an Examples artifact."""

from components.statistics_gen.component import StatisticsGen

__all__ = ["StatisticsGen"]
