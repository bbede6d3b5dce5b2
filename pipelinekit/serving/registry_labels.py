"""Version labels that follow the model registry's aliases (``serve --registry_metadata_path``).

Every ``poll_wait_seconds`` the follower reads the aliases of each served model from the
registry's ML Metadata store (the alias moves ``pipelinekit models alias|rollback`` append) and
hands them to the model manager as labels. The manager loads and warms up each alias's version
before the label moves, so ``model_spec.version_label = "production"`` (gRPC),
``/v1/models/M/labels/production`` (REST) and routes to ``M@production`` switch with no failed
request; a version that cannot load leaves the label on its old version, with the reason logged
and in :meth:`ModelManager.label_problems`.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

from pipelinekit.errors import PipelineKitError
from pipelinekit.serving.model_manager import VersionLifecycle

if TYPE_CHECKING:
    from pipelinekit.registry import Registry

__all__ = ["RegistryLabelFollower"]

logger = logging.getLogger(__name__)


class RegistryLabelFollower:
    """Polls the registry at ``metadata_path`` and points ``manager``'s labels at the aliases."""

    def __init__(self, metadata_path: str, manager: VersionLifecycle, poll_wait_seconds: float = 1.0) -> None:
        self._path = os.path.abspath(metadata_path)
        self._manager = manager
        self._poll_wait_seconds = poll_wait_seconds
        self._registry: Registry | None = None
        self._seen: dict[str, tuple[dict[str, int], set[int]]] = {}
        self._last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RegistryLabelFollower:
        """Apply the aliases once (blocking, so the server starts with them), then poll."""
        self.poll_once()
        self._thread = threading.Thread(target=self._loop, name="pipelinekit-registry-labels", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_wait_seconds):
            self.poll_once()

    def poll_once(self) -> bool:
        """Read the aliases; when any changed, hand them over and load their versions now.
        True when something changed. A store that cannot be read is logged and tried again."""
        try:
            changed = self._read_changes()
        except PipelineKitError as error:
            self._report(f"cannot read the registry at {self._path}: {error}; labels stay as they are")
            return False
        except Exception as error:  # noqa: BLE001 - MLMD's own errors (a locked SQLite file) are transient
            self._report(f"reading the registry at {self._path} failed: {type(error).__name__}: {error}; trying again")
            return False
        self._last_error = ""
        if changed:
            for name, (labels, standby) in changed.items():
                logger.info("model %r: registry aliases %s (kept loaded for a rollback: %s)", name, labels, sorted(standby))
                self._manager.follow_labels(name, labels, standby)
            self._manager.poll_once()
        return bool(changed)

    def _read_changes(self) -> dict[str, tuple[dict[str, int], set[int]]]:
        """Per model whose aliases changed: each alias's version, and the versions they named
        just before (what a rollback would go back to, kept loaded)."""
        from pipelinekit.registry import Registry, alias_moves

        if self._registry is None:
            self._registry = Registry.open(self._path)
        changed = {}
        for name in self._manager.model_names:
            current: dict[str, int] = {}
            previous: dict[str, int] = {}
            for move in alias_moves(self._registry.store, name):
                if current.get(move.alias, move.version) != move.version:
                    previous[move.alias] = current[move.alias]
                current[move.alias] = move.version
            state = (current, set(previous.values()))
            if current and state != self._seen.get(name, ({}, set())):
                changed[name] = self._seen[name] = state
        return changed

    def _report(self, message: str) -> None:
        if message != self._last_error:  # once per distinct problem, not on every poll
            self._last_error = message
            logger.error("%s", message)
