"""``tfx.v1.dsl.placeholders``: ``exec_property``, ``input`` and ``output``, the placeholders that
make sense without containers (pipelinekit.dsl.node_placeholder). TFX's others
(``execution_invocation``, ``environment_variable``, ``make_proto``, ...) describe a container's
command line or a remote runtime and are not provided."""

from __future__ import annotations

from pipelinekit.dsl.node_placeholder import exec_property, input, output

__all__ = ["exec_property", "input", "output"]
