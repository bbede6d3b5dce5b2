"""Which statistics a Transform module's ``stats_options_updater_fn(stats_type, stats_options)``
is asked to adjust (TFX's ``StatsType``, imported by module files from
``pipelinekit.tfx.components.transform.stats_options_util``)."""

from __future__ import annotations

import enum

__all__ = ["StatsType"]


class StatsType(enum.Enum):
    """The statistics Transform computes: of the raw data, or of the transformed data."""

    UNKNOWN = 0
    PRE_TRANSFORM = 1
    POST_TRANSFORM = 2
