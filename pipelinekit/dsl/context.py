"""What an executor may ask for about the run it is part of, including a Beam pipeline."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExecutionContext"]


@dataclass
class ExecutionContext:
    """Facts about the current execution, handed to executors that declare an argument of this type."""

    pipeline_name: str
    pipeline_root: str
    node_id: str
    run_id: str
    execution_id: int
    tmp_dir: str
    beam_pipeline_args: list[str] = field(default_factory=list)

    @property
    def logger(self) -> logging.LoggerAdapter:
        """A logger whose records carry the node id."""
        return logging.LoggerAdapter(logging.getLogger(f"pipelinekit.node.{self.node_id}"), {"node_id": self.node_id})

    def make_beam_pipeline(self, extra_args: list[str] | None = None) -> Any:
        """A ``beam.Pipeline`` built from the pipeline's ``beam_pipeline_args``; use it in a ``with`` block."""
        import apache_beam as beam
        from apache_beam.options.pipeline_options import PipelineOptions

        options = PipelineOptions([*self.beam_pipeline_args, *(extra_args or [])])
        return beam.Pipeline(options=options)
