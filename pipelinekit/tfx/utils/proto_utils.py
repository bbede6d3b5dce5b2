"""TFX's ``tfx.utils.proto_utils``: protos as the JSON TFX stores, from ``pipelinekit.components.util.proto_utils``."""

from pipelinekit.components.util.proto_utils import *  # noqa: F403
