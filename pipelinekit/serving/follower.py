"""A worker's model manager under ``serve --num_workers N``: it loads and publishes what the supervisor says.

The supervisor decides (polling, version policies, retries, labels; :mod:`pipelinekit.serving.leader`).
A follower loads a version when told (:meth:`FollowerManager.open_version`) and serves an explicit
request for it from then on; the version becomes the latest, takes labels and shows in
GetModelStatus only when the supervisor's state (:meth:`FollowerManager.follow`) publishes it. An
unpublished version keeps serving explicit requests until :meth:`FollowerManager.close_version`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tensorflow_serving.apis import model_pb2

from pipelinekit.serving.errors import VersionNotFoundError
from pipelinekit.serving.load_retries import LoadRetryPolicy
from pipelinekit.serving.memory import release_memory
from pipelinekit.serving.model_config import ModelServerConfig
from pipelinekit.serving.model_manager import LifecycleState, ModelManager
from pipelinekit.serving.servable import Servable

__all__ = ["FollowerManager"]

logger = logging.getLogger(__name__)


class FollowerManager(ModelManager):
    """Serves the versions the supervisor published; config reloads go to the supervisor."""

    def __init__(
        self,
        config: ModelServerConfig,
        enable_warmup: bool,
        forward_reload: Callable[[ModelServerConfig], None],
    ) -> None:
        super().__init__(config, poll_wait_seconds=0, enable_warmup=enable_warmup, retry=LoadRetryPolicy(0, 0))
        self._forward_reload = forward_reload
        self._loaded: dict[tuple[str, int], Servable] = {}  # published or not

    def start(self) -> None:
        """Nothing to poll or load here: the supervisor sends the versions before the ports open."""

    def open_version(self, name: str, version: int, path: str) -> None:
        """Load (and warm up) a version; explicit requests for it are served from now on."""
        servable = self._open(name, version, path)
        with self._lock:
            self._loaded = {**self._loaded, (name, version): servable}

    def close_version(self, name: str, version: int) -> None:
        """Release a version the supervisor unpublished (or that failed to load in another worker)."""
        with self._lock:
            self._loaded = {key: s for key, s in self._loaded.items() if key != (name, version)}
        release_memory()

    def follow(self, state: LifecycleState) -> None:
        """Take the supervisor's state: the models, statuses, labels and published versions."""
        missing = [(name, v) for name, versions in state.serving.items() for v in versions if (name, v) not in self._loaded]
        if missing:  # the supervisor opens every version here before it publishes one
            logger.error("published versions that this worker did not load (not served here): %s", missing)
        with self._lock:
            kept = {key: s for key, s in self._loaded.items() if key[0] in state.configs}
            removed, self._loaded = len(kept) < len(self._loaded), kept  # a reload may remove models
            self._configs = state.configs
            self._statuses = state.statuses
            self._labels = state.labels
            self._serving = {
                name: {v: self._loaded[(name, v)] for v in versions if (name, v) in self._loaded}
                for name, versions in state.serving.items()
            }
        if removed:
            release_memory()

    def servable(self, spec: model_pb2.ModelSpec) -> Servable:
        """As ModelManager's, and an explicit version that is loaded here but not (or no longer) published."""
        try:
            return super().servable(spec)
        except VersionNotFoundError:
            if spec.WhichOneof("version_choice") == "version":
                servable = self._loaded.get((spec.name, spec.version.value))
                if servable is not None:
                    return servable
            raise

    def reload_config(self, config: ModelServerConfig) -> None:
        """The supervisor applies it to every worker; returns once it did (or raises its error)."""
        self._forward_reload(config)

    def stop(self) -> None:
        with self._lock:
            self._loaded = {}
        super().stop()
