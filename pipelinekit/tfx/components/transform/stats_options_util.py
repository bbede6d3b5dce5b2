"""TFX's ``tfx.components.transform.stats_options_util``: ``StatsType``, from
``pipelinekit.components.transform.stats_options``."""

from pipelinekit.components.transform.stats_options import *  # noqa: F403
