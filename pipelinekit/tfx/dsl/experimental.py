"""``tfx.v1.dsl.experimental``: resolver strategies (pipelinekit.dsl.resolver) and ``RuntimeParameter``."""

from __future__ import annotations

from pipelinekit.tfx._lazy import lazy_names

_HOMES = {
    **{
        name: "pipelinekit.dsl.resolver"
        for name in ("LatestArtifactStrategy", "LatestBlessedModelStrategy", "SpanRangeStrategy", "ResolverStrategy")
    },
    "RuntimeParameter": "pipelinekit.dsl.runtime_parameter",
}
__all__ = sorted(_HOMES)
__getattr__ = lazy_names(__name__, _HOMES, globals())
