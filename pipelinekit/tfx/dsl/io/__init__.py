"""``tfx.v1.dsl.io``: file helpers (``fileio``)."""

from pipelinekit.tfx.dsl.io import fileio

__all__ = ["fileio"]
