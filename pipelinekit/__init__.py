"""pipelinekit: typed, declarative ML pipelines on Apache Beam, with ML Metadata lineage.

This package imports no TensorFlow, Beam or ML Metadata; they load when a run needs them.
The public API is what this module re-exports.
"""

from pipelinekit import compile as _compile
from pipelinekit import dsl as _dsl
from pipelinekit import errors as _errors
from pipelinekit import types as _types
from pipelinekit.compile import *  # noqa: F403
from pipelinekit.dsl import *  # noqa: F403
from pipelinekit.errors import *  # noqa: F403
from pipelinekit.orchestration import BeamDagRunner, LocalDagRunner, NodeResult, RunResult
from pipelinekit.types import *  # noqa: F403
from pipelinekit.version import __version__

__all__ = [
    "__version__",
    *_types.__all__,
    *_dsl.__all__,
    *_compile.__all__,
    "BeamDagRunner",
    "LocalDagRunner",
    "NodeResult",
    "RunResult",
    *_errors.__all__,
]
