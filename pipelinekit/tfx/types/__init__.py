"""``tfx.v1.types``: ``standard_artifacts`` and the channel/component base names."""

from pipelinekit.dsl.component import Component as BaseComponent
from pipelinekit.dsl.node import Channel as BaseChannel
from pipelinekit.dsl.node import Node as BaseNode
from pipelinekit.tfx.types import standard_artifacts

__all__ = ["standard_artifacts", "BaseChannel", "BaseComponent", "BaseNode"]
