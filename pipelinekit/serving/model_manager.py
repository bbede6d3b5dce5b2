"""Model lifecycle: poll base paths, load new versions, swap them in, unload old ones.

Availability comes first, as in TF Serving's availability-preserving policy: a new version
is loaded and warmed up before it is published, and an old version is unloaded only once a
version the policy wants is serving. So no request fails during a swap, and a version that
fails to load leaves the previous one serving, with the failure in GetModelStatus.
"""

from __future__ import annotations

import logging
import threading

import grpc
from tensorflow_serving.apis import get_model_status_pb2, model_pb2

from pipelinekit.serving.errors import (
    InvalidInputError,
    ModelConfigError,
    ModelNotFoundError,
    StatusError,
    VersionNotFoundError,
)
from pipelinekit.serving.model_config import (
    ModelConfig,
    ModelServerConfig,
    validate_config,
)
from pipelinekit.serving.servable import Servable
from pipelinekit.serving.status import VersionStatus
from pipelinekit.serving.version_policy import (
    describe_policy,
    list_version_dirs,
    select_versions,
)
from pipelinekit.serving.warmup import warm_up

__all__ = ["ModelManager"]

logger = logging.getLogger(__name__)


class ModelManager:
    """Serves the versions that each model's version policy picks from its base path."""

    def __init__(
        self, config: ModelServerConfig, poll_wait_seconds: float = 1.0, enable_warmup: bool = True
    ) -> None:
        self._configs = _configs_by_name(config)
        self._poll_wait_seconds = poll_wait_seconds
        self._enable_warmup = enable_warmup
        self._lock = threading.Lock()  # guards _statuses and replacing _serving
        self._poll_lock = threading.Lock()  # one poll at a time
        self._statuses: dict[str, dict[int, VersionStatus]] = {name: {} for name in self._configs}
        # Copy-on-write: readers take the current dict without locking.
        self._serving: dict[str, dict[int, Servable]] = {name: {} for name in self._configs}
        self._empty: set[str] = set()  # models whose base path has no version to serve
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load the initial versions (blocking, as TF Serving does), then poll in the background."""
        self.poll_once()
        if self._poll_wait_seconds > 0:
            self._thread = threading.Thread(
                target=self._poll_loop, name="pipelinekit-model-poller", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop polling and release every loaded version."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        with self._lock:
            self._serving = {name: {} for name in self._serving}

    @property
    def model_names(self) -> list[str]:
        return sorted(self._configs)

    def servable(self, spec: model_pb2.ModelSpec) -> Servable:
        """The loaded version a request's model_spec names: by number, by label, or the highest."""
        versions = self._serving.get(spec.name)
        if versions is None:
            raise ModelNotFoundError(
                f"Servable not found for request: model {spec.name!r} is not served. Served models: "
                f"{self.model_names}."
            )
        choice = spec.WhichOneof("version_choice")
        if choice == "version":
            version = spec.version.value
        elif choice == "version_label":
            version = self._label_version(spec.name, spec.version_label)
        elif versions:
            return versions[max(versions)]
        else:
            raise ModelNotFoundError(
                f"Servable not found for request: model {spec.name!r} has no version loaded; "
                "see GetModelStatus (GET /v1/models/<name>) for load errors."
            )
        servable = versions.get(version)
        if servable is None:
            raise VersionNotFoundError(
                f"Servable not found for request: model {spec.name!r} version {version} is not loaded. "
                f"Loaded versions: {sorted(versions)}."
            )
        return servable

    def _label_version(self, name: str, label: str) -> int:
        config = self._configs.get(name)
        if config is None:
            raise ModelNotFoundError(f"model {name!r} is not served. Served models: {self.model_names}.")
        labels = config.version_labels
        if label not in labels:
            raise InvalidInputError(
                f"Unrecognized servable version label {label!r} for model {name!r}; known labels: "
                f"{sorted(labels)}. "
                "Labels are set with version_labels in the model config file."
            )
        return labels[label]

    def status(self, name: str, version: int | None = None) -> list[VersionStatus]:
        """The state of every known version of ``name`` (newest first), or of one version."""
        with self._lock:
            statuses = self._statuses.get(name)
            if statuses is None:
                raise ModelNotFoundError(f"model {name!r} is not served. Served models: {self.model_names}.")
            if version is None:
                return [statuses[v] for v in sorted(statuses, reverse=True)]
            if version not in statuses:
                raise VersionNotFoundError(
                    f"model {name!r} has no version {version}. Known versions: {sorted(statuses)}."
                )
            return [statuses[version]]

    def status_response(self, spec: model_pb2.ModelSpec) -> get_model_status_pb2.GetModelStatusResponse:
        """GetModelStatus's answer for a model_spec (a label stands for its version)."""
        version: int | None = None
        if spec.WhichOneof("version_choice") == "version":
            version = spec.version.value
        elif spec.WhichOneof("version_choice") == "version_label":
            version = self._label_version(spec.name, spec.version_label)
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in self.status(spec.name, version):
            entry = response.model_version_status.add(version=status.version)
            entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(status.state)
            entry.status.error_code = grpc.StatusCode[status.error_code].value[0]
            entry.status.error_message = status.error_message
        return response

    def serves(self, name: str) -> bool:
        """Whether ``name`` is a configured model (loaded or not)."""
        return name in self._configs

    def available_versions(self) -> dict[str, list[int]]:
        """Model name to its serving versions, for health checks and metrics."""
        return {name: sorted(versions) for name, versions in self._serving.items()}

    def reload_config(self, config: ModelServerConfig) -> None:
        """Serve a new set of models: add new ones, drop removed ones, apply new policies and labels.

        Blocks until the new models' versions are loaded, as TF Serving's HandleReloadConfigRequest.
        """
        validate_config(config, source="the reloaded model config")
        new_configs = _configs_by_name(config)
        with self._poll_lock:
            with self._lock:
                self._configs = new_configs
                self._statuses = {name: self._statuses.get(name, {}) for name in new_configs}
                self._serving = {name: self._serving.get(name, {}) for name in new_configs}
            logger.info("model config reloaded: serving %s", sorted(new_configs))
        self.poll_once()

    def poll_once(self) -> None:
        """Scan every model's base path once and load or unload versions to match its policy."""
        with self._poll_lock:
            for config in list(self._configs.values()):
                try:
                    self._poll_model(config)
                except Exception:  # keep serving and polling the other models
                    logger.exception("polling model %r at %r failed", config.name, config.base_path)

    def _poll_loop(self) -> None:
        while not self._stop.wait(self._poll_wait_seconds):
            self.poll_once()

    def _poll_model(self, config: ModelConfig) -> None:
        on_disk = list_version_dirs(config.base_path)
        wanted = select_versions(config.model_version_policy, on_disk)
        if not wanted:
            if config.name not in self._empty:  # say it once, not on every poll
                self._empty.add(config.name)
                policy = describe_policy(config.model_version_policy)
                logger.warning("model %r: no version under %r fits %s", config.name, config.base_path, policy)
            return
        self._empty.discard(config.name)
        for version in sorted(wanted, reverse=True):
            if self._needs_load(config.name, version):
                self._load(config.name, version, on_disk[version])
        self._unload_unwanted(config.name, wanted)

    def _needs_load(self, name: str, version: int) -> bool:
        """Not tried yet, or unloaded earlier; a failed version is not retried (push a new one)."""
        status = self._statuses[name].get(version)
        return status is None or (status.state == "END" and status.error_code == "OK")

    def _load(self, name: str, version: int, path: str) -> None:
        self._set_status(name, VersionStatus(version, "LOADING"))
        logger.info("model %r: loading version %d from %r", name, version, path)
        try:
            servable = Servable(name, version, path)
            if self._enable_warmup:
                warm_up(servable)
        except Exception as exc:  # noqa: BLE001 - any failure is this version's, reported in its status
            code = exc.code if isinstance(exc, StatusError) else "UNKNOWN"
            logger.error(
                "model %r: version %d failed to load: %s",
                name,
                version,
                exc,
                exc_info=not isinstance(exc, StatusError),
            )
            self._set_status(name, VersionStatus(version, "END", code, str(exc) or type(exc).__name__))
            return
        with self._lock:
            self._serving[name] = {**self._serving[name], version: servable}
            self._statuses[name][version] = VersionStatus(version, "AVAILABLE")
        logger.info("model %r: version %d is serving", name, version)

    def _unload_unwanted(self, name: str, wanted: set[int]) -> None:
        serving = self._serving[name]
        if not wanted & set(serving):
            return  # nothing the policy wants is up yet: keep what serves now
        for version in sorted(set(serving) - wanted):
            self._set_status(name, VersionStatus(version, "UNLOADING"))
            with self._lock:
                self._serving[name] = {v: s for v, s in self._serving[name].items() if v != version}
                self._statuses[name][version] = VersionStatus(version, "END")
            logger.info("model %r: version %d unloaded", name, version)

    def _set_status(self, name: str, status: VersionStatus) -> None:
        with self._lock:
            self._statuses[name][status.version] = status


def _configs_by_name(config: ModelServerConfig) -> dict[str, ModelConfig]:
    configs = {model.name: model for model in config.model_config_list.config}
    if not configs:
        raise ModelConfigError(
            "the model server config names no model; pass --model_name and --model_base_path or "
            "--model_config_file"
        )
    return configs
