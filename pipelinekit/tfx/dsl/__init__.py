"""``tfx.v1.dsl``: Pipeline (with TFX's arguments), ExecutionMode, Importer, Channel, Resolver,
Cond, Artifact, and the ``components``, ``experimental``, ``io`` and ``placeholders``
submodules (``placeholders``: TFX's ``exec_property``, ``input`` and ``output``; an upstream
node's values are ``channel.future()``)."""

from __future__ import annotations

from pipelinekit.tfx._lazy import lazy_names

_HOMES = {
    "Pipeline": "pipelinekit.tfx.dsl.pipeline",
    "ExecutionMode": "pipelinekit.tfx.dsl.pipeline",
    "Importer": "pipelinekit.tfx.dsl.pipeline",
    "Channel": "pipelinekit.dsl.node",
    "Resolver": "pipelinekit.dsl.resolver",
    "Cond": "pipelinekit.dsl.conditional",
    "Artifact": "pipelinekit.types.artifact",
    "components": "pipelinekit.tfx.dsl:components",
    "experimental": "pipelinekit.tfx.dsl:experimental",
    "io": "pipelinekit.tfx.dsl:io",
    "placeholders": "pipelinekit.tfx.dsl:placeholders",
}


def _submodule(name: str) -> object:
    import importlib

    return importlib.import_module(f"pipelinekit.tfx.dsl.{name}")


__all__ = sorted(_HOMES)
_resolve = lazy_names(__name__, _HOMES, globals())


def __getattr__(name: str) -> object:
    if name in ("components", "experimental", "io", "placeholders"):
        module = _submodule(name)
        globals()[name] = module
        return module
    return _resolve(name)
