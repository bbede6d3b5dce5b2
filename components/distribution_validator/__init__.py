"""DistributionValidator: drift between two statistics artifacts, judged by TFDV comparators."""

from pipelinekit.components.distribution_validator.component import DistributionValidator

__all__ = ["DistributionValidator"]
