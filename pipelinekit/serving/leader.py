"""The supervisor's model lifecycle under ``serve --num_workers N``: ModelManager's decisions, loads in the workers.

The policy code is ModelManager's (:class:`VersionLifecycle`: polling, version policies, load
retries, labels, config reloads); only where a version lives differs. Each step reaches every
worker before the next one starts:

1. ``open`` v in every worker, all answer (a failure in any worker is the load's failure: the
   others close v again, and the retry policy applies as in one process);
2. the state publishing v (AVAILABLE, latest, labels) to every worker, all answer;
3. for an old version: the state unpublishing it (END) to every worker, all answer;
4. ``close`` the old version in every worker.

So when any worker reports a version AVAILABLE, every worker has it loaded; a worker serves an
explicit request for a version from step 1 to step 4.
"""

from __future__ import annotations

import logging

from pipelinekit.serving.errors import ModelLoadError
from pipelinekit.serving.load_retries import LoadRetryPolicy
from pipelinekit.serving.model_config import ModelServerConfig
from pipelinekit.serving.model_manager import VersionLifecycle
from pipelinekit.serving.worker_link import Reply, WorkerPool

__all__ = ["LeaderManager"]

logger = logging.getLogger(__name__)


class LeaderManager(VersionLifecycle[str]):
    """Decides for every worker of ``pool``; keeps each serving version's folder."""

    def __init__(
        self, config: ModelServerConfig, pool: WorkerPool, poll_wait_seconds: float, retry: LoadRetryPolicy
    ) -> None:
        super().__init__(config, poll_wait_seconds, enable_warmup=False, retry=retry)  # the workers warm up
        self._pool = pool

    def serving_folders(self) -> list[tuple[str, int, str]]:
        """(model, version, folder) of every serving version: what a restarted worker loads first."""
        with self._lock:
            return [(name, v, path) for name, versions in self._serving.items() for v, path in sorted(versions.items())]

    def _open(self, name: str, version: int, path: str) -> str:
        replies = self._pool.broadcast("open", (name, version, path))
        failed = [reply for reply in replies.values() if reply is not None and not reply.ok]
        if failed:
            self._pool.broadcast("close", (name, version))
            raise ModelLoadError(failed[0].message, failed[0].code)
        if not any(reply is not None for reply in replies.values()):
            raise ModelLoadError(
                f"model {name!r} version {version}: no worker process is running to load it; they are being restarted",
                "UNAVAILABLE",
            )
        return path

    def _changed(self) -> None:
        _log_failures("take the new model state", self._pool.broadcast_state(self.state))

    def _close(self, name: str, version: int) -> None:
        _log_failures(f"release model {name!r} version {version}", self._pool.broadcast("close", (name, version)))


def _log_failures(what: str, replies: dict[int, Reply | None]) -> None:
    for index, reply in sorted(replies.items()):
        if reply is not None and not reply.ok:
            logger.error("worker %d could not %s: %s", index, what, reply.message)
