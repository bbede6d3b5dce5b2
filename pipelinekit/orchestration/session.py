"""One run of a plan: opens the store, records the run, runs nodes (in any order the runner
chooses, from any thread), and sums up the result."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime

from pipelinekit.compile.plan import Plan
from pipelinekit.errors import ComponentFailedError
from pipelinekit.metadata.store import PIPELINE, PIPELINE_RUN, MetadataStore, run_context_name
from pipelinekit.orchestration.launcher import NodeLauncher, user_traceback
from pipelinekit.orchestration.listener import LoggingListener, RunListener
from pipelinekit.orchestration.ownership import current_owner
from pipelinekit.orchestration.recovery import recover_abandoned
from pipelinekit.orchestration.result import FAILED, SKIPPED, NodeResult, RunResult

__all__ = ["RunSession", "new_run_id"]


def new_run_id() -> str:
    """A sortable, readable run id such as ``20261125-143001-123456``."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")


class RunSession:
    """The state of one run. ``run_node`` is thread-safe and never raises for a node failure."""

    def __init__(self, plan: Plan, listener: RunListener | None = None, store: MetadataStore | None = None) -> None:
        self.plan = plan
        self.run_id = new_run_id()
        self.listener = listener or LoggingListener()
        self.store = store or MetadataStore(plan.metadata)
        self.launcher = NodeLauncher(plan, self.store, self.run_id, self.listener)
        self.results: dict[str, NodeResult] = {}
        self._lock = threading.Lock()
        self.started_at = time.time()
        self._run_context_name = run_context_name(plan.pipeline_name, self.run_id)
        self._abandoned = False
        self.recovered = recover_abandoned(self.store, plan.pipeline_name, plan.pipeline_root)
        self.store.context(PIPELINE, plan.pipeline_name)
        self.store.context(
            PIPELINE_RUN,
            self._run_context_name,
            {"run_id": self.run_id, "started_at": self.started_at, "status": "RUNNING", **current_owner()},
        )

    def run_node(self, node_id: str) -> NodeResult:
        """Run one node whose upstream nodes have all finished; skip it if one of them did not succeed.
        Ctrl-C or SIGTERM while it runs stops the whole run (see :meth:`abandon`) and propagates."""
        try:
            result = self._settle(node_id, cached_only=False)
        except KeyboardInterrupt as error:
            self.abandon(error)
            raise
        assert result is not None
        return result

    def reuse_cached_nodes(self) -> list[str]:
        """Settle, in order, every node whose result is already known without running it (a cache
        hit, or a skip below a skipped or failed node), stopping below the first miss; returns the
        nodes still to run. Lets a fully cached rerun skip the Beam start-up."""
        if not self.plan.enable_cache:
            return list(self.plan.order)
        for node_id in self.plan.order:
            if all(self.results.get(u) is not None for u in self.plan.upstream[node_id]):
                self._settle(node_id, cached_only=True)
        return [node_id for node_id in self.plan.order if node_id not in self.results]

    def _settle(self, node_id: str, cached_only: bool) -> NodeResult | None:
        with self._lock:
            finished = dict(self.results)
        blocked = [u for u in self.plan.upstream[node_id] if not finished[u].ok]
        if blocked:
            now = time.time()
            result: NodeResult | None = NodeResult(node_id, SKIPPED, _blocked_reason(blocked[0], finished), started_at=now, finished_at=now)
        else:
            result = self._launch(node_id, finished, cached_only)
        if result is None:
            return None
        with self._lock:
            self.results[node_id] = result
        self.listener.node_finished(result)
        return result

    def _launch(self, node_id: str, finished: dict[str, NodeResult], cached_only: bool) -> NodeResult | None:
        started = time.time()
        try:
            return self.launcher.launch(node_id, finished, cached_only)
        except Exception as error:  # a failure outside the executor: cache key, store, file system
            failure = ComponentFailedError(node_id, self.run_id, None, error)
            failure.__cause__ = error
            return NodeResult(
                node_id, FAILED, "could not launch", "", None, {}, started, time.time(), failure, user_traceback(error)
            )

    def finish(self) -> RunResult:
        """Record the run's end and status in its ``pipeline_run`` context and return the result."""
        ordered = {node_id: self.results[node_id] for node_id in self.plan.order if node_id in self.results}
        result = RunResult(self.plan.pipeline_name, self.run_id, ordered, self.started_at, time.time())
        self.store.update_context(
            PIPELINE_RUN,
            self._run_context_name,
            {
                "finished_at": result.finished_at,
                "status": result.status,
                **{k: v for k, v in result.summary().items() if k != "duration_s"},
                "failed_nodes": ", ".join(result.nodes_with(FAILED)),
            },
        )
        return result

    def abandon(self, error: BaseException) -> None:
        """Record that the run stopped early: INTERRUPTED for Ctrl-C or SIGTERM, ABORTED when the
        runner itself failed. Running nodes are marked CANCELED and will publish nothing. Idempotent."""
        with self._lock:
            if self._abandoned:
                return
            self._abandoned = True
        interrupted = isinstance(error, KeyboardInterrupt)
        reason = f"run interrupted ({_describe_interrupt(error)})" if interrupted else f"run aborted: {error}"
        cancelled = self.launcher.stop(reason)
        self.store.update_context(
            PIPELINE_RUN,
            self._run_context_name,
            {
                "finished_at": time.time(),
                "status": "INTERRUPTED" if interrupted else "ABORTED",
                "error": reason[:2000],
                "cancelled_executions": ", ".join(map(str, cancelled)),
            },
        )


def _blocked_reason(upstream_id: str, finished: dict[str, NodeResult]) -> str:
    """Why a node is skipped because of ``upstream_id``, naming the first cause of a chain of skips."""
    upstream = finished[upstream_id]
    if upstream.status != SKIPPED:
        return f"upstream node {upstream_id!r} {upstream.status}"
    if upstream.reason.startswith("upstream node "):
        return upstream.reason
    return f"upstream node {upstream_id!r} skipped: {upstream.reason}"


def _describe_interrupt(error: BaseException) -> str:
    signal_number = getattr(error, "signal_number", signal.SIGINT)
    return signal.Signals(signal_number).name
