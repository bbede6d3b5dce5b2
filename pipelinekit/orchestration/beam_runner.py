"""BeamDagRunner: the DAG as an Apache Beam pipeline, with independent nodes run in parallel.

The nodes that the cache cannot settle run in one Beam stage on the DirectRunner in
multi-threading mode: ``Create(worker slots) | FlatMap(work)``, one element per worker, and
Beam spreads the elements over as many parallel workers. Each worker takes the next node whose
own upstream nodes are done from a shared :class:`ReadyQueue`, runs it, and asks again, so a
node starts as soon as its inputs exist (not when its whole layer is done) and Beam's fixed cost
is paid once per run, not once per node or layer. The nodes run in this process (they share the
run's state and metadata store); the data work inside executors goes wherever the pipeline's
``beam_pipeline_args`` send it.
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pipelinekit.compile.plan import Plan
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.errors import MissingDependencyError
from pipelinekit.orchestration.beam_options import parse_orchestrator_options
from pipelinekit.orchestration.driver import drive
from pipelinekit.orchestration.listener import RunListener
from pipelinekit.orchestration.result import RunResult
from pipelinekit.orchestration.scheduling import ReadyQueue
from pipelinekit.orchestration.session import RunSession

__all__ = ["BeamDagRunner"]

logger = logging.getLogger("pipelinekit.run")

_RUNS: dict[str, tuple[RunSession, ReadyQueue]] = {}
_RUNS_LOCK = threading.Lock()


def _work(slot: int, token: str) -> Iterator[str]:
    """The body of every Beam worker: run ready nodes of the run registered under ``token`` until
    none is left. A failure of the runner itself (not of a node) closes the queue for all workers."""
    with _RUNS_LOCK:
        session, queue = _RUNS[token]
    while (node_id := queue.take()) is not None:
        try:
            session.run_node(node_id)
        except BaseException as error:
            queue.close(error)
            raise
        queue.done(node_id)
        yield node_id


class BeamDagRunner:
    """Runs a pipeline as a Beam pipeline on the DirectRunner, independent branches in parallel.

    ``max_parallel`` caps the nodes running at once (default: the machine's cores, at least 2).
    ``beam_orchestrator_args`` are Beam options for the orchestrator's own pipeline: only
    ``--runner=DirectRunner``, ``--direct_running_mode=multi_threading`` and
    ``--direct_num_workers=N`` apply to it, and anything else raises a DefinitionError here
    (options for the executors' pipelines belong in the Pipeline's ``beam_pipeline_args``).
    """

    def __init__(
        self,
        listener: RunListener | None = None,
        max_parallel: int | None = None,
        beam_orchestrator_args: Sequence[str] = (),
    ) -> None:
        self.listener = listener
        self.options = parse_orchestrator_options(beam_orchestrator_args, max_parallel)

    def run(self, pipeline: Pipeline | Plan, runtime_parameters: Mapping[str, Any] | None = None) -> RunResult:
        """Run every node; a fully cached rerun settles from the store without starting Beam.
        ``runtime_parameters`` gives the values of the pipeline's ``RuntimeParameter``s."""
        return drive(pipeline, self.listener, self._settle, runtime_parameters)

    def _settle(self, session: RunSession) -> None:
        remaining = session.reuse_cached_nodes()
        if not remaining:
            return
        queue = ReadyQueue(session.plan.upstream, remaining)
        token = uuid.uuid4().hex
        with _RUNS_LOCK:
            _RUNS[token] = (session, queue)
        try:
            with _worker_logs_silenced_on_sigint():
                self._run_on_beam(len(remaining), self.options.workers(queue.max_concurrency), token)
        except KeyboardInterrupt:  # Ctrl-C reaches this (the main) thread; workers finish no new node
            queue.close()
            _silence_worker_logs()
            raise
        except Exception:
            queue.close()
            if queue.error is not None:
                raise queue.error from None  # the worker's own error, not Beam's wrapper around its text
            raise
        finally:
            with _RUNS_LOCK:
                del _RUNS[token]

    def _run_on_beam(self, node_count: int, workers: int, token: str) -> None:
        try:
            import apache_beam as beam
            from apache_beam.options.pipeline_options import PipelineOptions
        except ImportError as error:  # pragma: no cover - apache-beam is a core dependency
            raise MissingDependencyError("apache_beam", "BeamDagRunner", "pip install 'apache-beam[gcp]==2.61.0'") from error
        logger.info("BeamDagRunner: %s", self.options.describe(node_count, workers))
        options = PipelineOptions(self.options.beam_args(workers))
        with beam.Pipeline(runner="DirectRunner", options=options) as beam_pipeline:
            _ = (
                beam_pipeline
                | "WorkerSlots" >> beam.Create(list(range(workers)))
                | f"RunNodes[{node_count}]" >> beam.FlatMap(_work, token=token)
            )


def _silence_worker_logs() -> None:
    """Beam's worker threads, torn down mid-bundle by an interrupt, log KeyErrors about bundles
    they lost: noise after an interrupt the user asked for, so they are not shown."""
    logging.getLogger("apache_beam.runners.worker").setLevel(logging.CRITICAL)


@contextmanager
def _worker_logs_silenced_on_sigint() -> Iterator[None]:
    """Silence Beam's worker logs the moment SIGINT arrives, before the KeyboardInterrupt unwinds
    Beam (its teardown logs before this runner's handler runs); only where a handler can be set,
    in the main thread, and the previous handler still raises the interrupt."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return

    def on_sigint(number: int, frame: Any) -> Any:
        _silence_worker_logs()
        return previous(number, frame)

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
