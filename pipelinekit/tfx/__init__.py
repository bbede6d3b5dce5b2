"""``from pipelinekit import tfx``: TFX v1's public API (``from tfx import v1 as tfx``) on
pipelinekit, so TFX pipeline and module files run with only their imports changed.

Submodules load on first attribute access; none of them imports TensorFlow or TFMA.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["components", "dsl", "orchestration", "proto", "types", "utils"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'pipelinekit.tfx' has no attribute {name!r}; it has: {', '.join(__all__)}")
    module = importlib.import_module(f"pipelinekit.tfx.{name}")
    globals()[name] = module
    return module
