"""What an executor may ask for about the run it is part of, including a Beam pipeline."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExecutionContext", "SMALL_INPUT_BYTES"]

SMALL_INPUT_BYTES = int(os.environ.get("PIPELINEKIT_SMALL_INPUT_BYTES", 64 * 1024 * 1024))
"""Below this much input data, a DirectRunner pipeline asked to run in ``multi_processing`` mode
runs in this process instead: each worker process would import TensorFlow again (seconds each)
to process a few megabytes. Set the environment variable to 0 to always honour the mode."""


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
    input_bytes: int = 0

    @property
    def logger(self) -> logging.LoggerAdapter:
        """A logger whose records carry the node id."""
        return logging.LoggerAdapter(logging.getLogger(f"pipelinekit.node.{self.node_id}"), {"node_id": self.node_id})

    def make_beam_pipeline(self, extra_args: list[str] | None = None) -> Any:
        """A ``beam.Pipeline`` built from the pipeline's ``beam_pipeline_args``; use it in a ``with`` block."""
        import apache_beam as beam
        from apache_beam.options.pipeline_options import PipelineOptions

        from pipelinekit.dsl import beam_cluster, beam_dofn_specs, beam_pickling, beam_state_weights

        beam_dofn_specs.install()
        beam_state_weights.install()
        args = self._effective_args([*self.beam_pipeline_args, *(extra_args or [])])
        target = beam_cluster.cluster_target(args)
        if target is None:
            from pipelinekit.dsl.beam_option_views import OptionsWithRememberedViews

            return beam.Pipeline(options=OptionsWithRememberedViews(beam_pickling.with_fast_pickler(args)))
        beam_cluster.check_reachable(target, self.node_id)
        if not any(a == "--job_name" or a.startswith("--job_name=") for a in args):
            args = [*args, f"--job_name={self.job_name}"]
        return beam_cluster.cluster_pipeline(PipelineOptions(args), target)

    @property
    def job_name(self) -> str:
        """The name this node's Beam job gets on a cluster (Flink lists it): pipeline, node, execution."""
        return f"pipelinekit-{self.pipeline_name}-{self.node_id}-{self.execution_id}"

    def _effective_args(self, args: list[str]) -> list[str]:
        """``args``, with DirectRunner's multi_processing mode turned into in-process running
        when this node's input is small (see ``SMALL_INPUT_BYTES``); said in a log line."""
        runner = next((a.split("=", 1)[1] for a in args if a.startswith("--runner=")), "DirectRunner")
        if runner not in ("DirectRunner", "direct") or "--direct_running_mode=multi_processing" not in args:
            return args
        if self.input_bytes >= SMALL_INPUT_BYTES:
            return args
        self.logger.info(
            "input is %.1f MB, under %d MB: Beam runs in this process instead of multi_processing workers, "
            "which would each import TensorFlow again (set PIPELINEKIT_SMALL_INPUT_BYTES=0 to keep the mode)",
            self.input_bytes / 1e6,
            SMALL_INPUT_BYTES // (1024 * 1024),
        )
        kept = [a for a in args if not a.startswith(("--direct_running_mode=", "--direct_num_workers="))]
        return [*kept, "--direct_running_mode=in_memory"]

