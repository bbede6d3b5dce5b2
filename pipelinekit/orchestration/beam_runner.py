"""BeamDagRunner: the DAG as an Apache Beam pipeline, with independent nodes run in parallel.

Each topological layer of the plan is one Beam stage whose elements are node ids; a layer
waits for the previous one through a side input. On the DirectRunner in multi-threading mode
the elements of a stage run on parallel workers, so independent branches overlap. The nodes
run in this process (they share the run's state and metadata store); the data work inside
executors goes wherever the pipeline's ``beam_pipeline_args`` send it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

from pipelinekit.compile.compiler import compile_pipeline
from pipelinekit.compile.plan import Plan
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.errors import MissingDependencyError
from pipelinekit.orchestration.listener import RunListener
from pipelinekit.orchestration.result import RunResult
from pipelinekit.orchestration.session import RunSession

__all__ = ["BeamDagRunner"]

_SESSIONS: dict[str, RunSession] = {}
_SESSIONS_LOCK = threading.Lock()


def _run_node(node_id, *_previous_layer, token):  # type: ignore[no-untyped-def]  # Beam reads annotations as type hints
    """The body of every Beam step: run one node of the session registered under ``token``."""
    with _SESSIONS_LOCK:
        session = _SESSIONS[token]
    session.run_node(node_id)
    yield node_id


class BeamDagRunner:
    """Runs a pipeline as a Beam pipeline on the DirectRunner; ``max_parallel`` caps concurrent nodes
    (default: the widest layer); ``beam_orchestrator_args`` are extra options for that pipeline."""

    def __init__(
        self,
        listener: RunListener | None = None,
        max_parallel: int | None = None,
        beam_orchestrator_args: Sequence[str] = (),
    ) -> None:
        self.listener = listener
        self.max_parallel = max_parallel
        self.beam_orchestrator_args = list(beam_orchestrator_args)

    def run(self, pipeline: Pipeline | Plan) -> RunResult:
        plan = pipeline if isinstance(pipeline, Plan) else compile_pipeline(pipeline)
        session = RunSession(plan, self.listener)
        remaining = set(session.reuse_cached_nodes())
        layers = [tuple(n for n in layer if n in remaining) for layer in plan.layers]
        layers = [layer for layer in layers if layer]
        if layers:
            try:
                self._run_on_beam(session, layers)
            except BaseException as error:
                session.abandon(error)
                raise
        return session.finish()

    def _run_on_beam(self, session: RunSession, layers: list[tuple[str, ...]]) -> None:
        try:
            import apache_beam as beam
            from apache_beam.options.pipeline_options import PipelineOptions
        except ImportError as error:  # pragma: no cover - apache-beam is a core dependency
            raise MissingDependencyError("apache_beam", "BeamDagRunner", "pip install 'apache-beam[gcp]==2.61.0'") from error
        token = uuid.uuid4().hex
        with _SESSIONS_LOCK:
            _SESSIONS[token] = session
        try:
            with beam.Pipeline(runner="DirectRunner", options=PipelineOptions(self._options(layers))) as beam_pipeline:
                self._build(beam, beam_pipeline, layers, token)
        finally:
            with _SESSIONS_LOCK:
                del _SESSIONS[token]

    def _options(self, layers: list[tuple[str, ...]]) -> list[str]:
        workers = self.max_parallel or max(len(layer) for layer in layers)
        return ["--direct_running_mode=multi_threading", f"--direct_num_workers={max(1, workers)}", *self.beam_orchestrator_args]

    @staticmethod
    def _build(beam: Any, beam_pipeline: Any, layers: list[tuple[str, ...]], token: str) -> None:
        previous = None
        for index, layer in enumerate(layers):
            label = f"Layer{index}"
            node_ids = beam_pipeline | f"{label}/Nodes" >> beam.Create(list(layer)) | f"{label}/Spread" >> beam.Reshuffle()
            after: list[Any] = [beam.pvalue.AsList(previous)] if previous is not None else []
            previous = node_ids | f"{label}/Run[{','.join(layer)}]" >> beam.FlatMap(_run_node, *after, token=token)
