"""TFX's ``tfx.utils.proto_utils``: protos as the JSON TFX stores (``pipelinekit.components.util.proto_utils``)."""

from pipelinekit.components.util.proto_utils import json_to_proto, proto_to_json

__all__ = ["proto_to_json", "json_to_proto"]
