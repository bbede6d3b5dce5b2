"""Model lifecycle: poll base paths, load new versions, swap them in, unload old ones.

Availability comes first, as in TF Serving's availability-preserving policy: a new version
is loaded and warmed up before it is published, and an old version is unloaded only once a
version the policy wants is serving. So no request fails during a swap, and a version that
fails to load leaves the previous one serving, with the failure in GetModelStatus.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

import grpc
from tensorflow_serving.apis import get_model_status_pb2, model_pb2

from pipelinekit.serving.errors import (
    InvalidInputError,
    ModelConfigError,
    ModelNotFoundError,
    StatusError,
    VersionNotFoundError,
)
from pipelinekit.serving.load_retries import LoadAttempts, LoadRetryPolicy
from pipelinekit.serving.memory import freeze_loaded, release_memory
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

__all__ = ["LifecycleState", "ModelManager", "VersionLifecycle"]

logger = logging.getLogger(__name__)

V = TypeVar("V")


@dataclass(frozen=True)
class LifecycleState:
    """What GetModelStatus and requests see: the models, versions' states, labels and serving versions."""

    configs: dict[str, ModelConfig]
    statuses: dict[str, dict[int, VersionStatus]]
    labels: dict[str, dict[str, int]]
    serving: dict[str, list[int]]


class VersionLifecycle(Generic[V]):
    """Decides which versions of each model serve: polls base paths, applies policies, retries, labels.

    What a loaded version is (``V``) and where it lives is the subclass's: :meth:`_open` loads one,
    :meth:`_changed` hears of every change of the state, :meth:`_close` releases an unpublished version.
    """

    def __init__(
        self,
        config: ModelServerConfig,
        poll_wait_seconds: float = 1.0,
        enable_warmup: bool = True,
        retry: LoadRetryPolicy | None = None,
        manage_memory: bool = True,
    ) -> None:
        self._configs = _configs_by_name(config)
        self._labels: dict[str, dict[str, int]] = {}  # applied once their versions serve
        self._followed: dict[str, dict[str, int]] = {}  # labels a registry asks for (follow_labels)
        self._standby: dict[str, set[int]] = {}  # versions kept loaded for an instant rollback
        self._followed_applied: dict[str, dict[str, int]] = {}  # those of them in force
        self._label_problems: dict[tuple[str, str], str] = {}  # why a followed label waits
        self._poll_wait_seconds = poll_wait_seconds
        self._enable_warmup = enable_warmup
        # Collect, freeze and trim the process's heap around loads and unloads (serving/memory.py):
        # right for a serving process; a short-lived server inside another process (the
        # InfraValidator's, in a pipeline run) leaves its host's heap alone.
        self._manage_memory = manage_memory
        self._retry = retry or LoadRetryPolicy()
        self._attempts = LoadAttempts()
        self._lock = threading.Lock()  # guards _statuses and replacing _serving
        self._poll_lock = threading.Lock()  # one poll at a time
        self._statuses: dict[str, dict[int, VersionStatus]] = {name: {} for name in self._configs}
        # Copy-on-write: readers take the current dict without locking.
        self._serving: dict[str, dict[int, V]] = {name: {} for name in self._configs}
        self._empty: set[str] = set()  # models whose base path has no version to serve
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load the initial versions (blocking, as TF Serving does), then poll in the background.

        The poller also retries failed loads, so it runs when either polling or retries are on.
        A label naming a version that did not load is left out, with an error in the log.
        """
        self.poll_once()
        try:
            self._apply_labels(self._configs)
        except ModelConfigError as exc:
            logger.error("%s", exc)
        if self._poll_wait_seconds > 0 or self._retry.max_retries > 0:
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
        if self._manage_memory:
            release_memory()

    @property
    def model_names(self) -> list[str]:
        return sorted(self._configs)

    def servable(self, spec: model_pb2.ModelSpec) -> V:
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
        if name not in self._configs:
            raise ModelNotFoundError(f"model {name!r} is not served. Served models: {self.model_names}.")
        labels = self._labels.get(name, {})
        if label not in labels:
            raise InvalidInputError(
                f"Unrecognized servable version label {label!r} for model {name!r}; known labels: "
                f"{sorted(labels)}. "
                "Labels are set with version_labels in the model config file, or are the registry's aliases "
                "(serve --registry_metadata_path; pipelinekit models alias)."
            )
        return labels[label]

    def status(self, name: str, version: int | None = None) -> list[VersionStatus]:
        """The state of every known version of ``name`` (newest first), or of one version.

        NOT_FOUND when there is none, with TF Serving's messages: clients wait on that code.
        """
        with self._lock:
            statuses = self._statuses.get(name) or {}
            if version is None:
                if not statuses:
                    raise ModelNotFoundError(
                        f"Could not find any versions of model {name}. Served models: {self.model_names}."
                    )
                return [statuses[v] for v in sorted(statuses, reverse=True)]
            if version not in statuses:
                raise VersionNotFoundError(
                    f"Could not find version {version} of model {name}. Known versions: {sorted(statuses)}."
                )
            return [statuses[version]]

    def status_response(
        self, request: get_model_status_pb2.GetModelStatusRequest
    ) -> get_model_status_pb2.GetModelStatusResponse:
        """GetModelStatus's answer: one version if the spec names a number, else every version.

        As in TF Serving, a version label does not narrow the answer, and a request without a
        model_spec is INVALID_ARGUMENT.
        """
        if not request.HasField("model_spec"):
            raise InvalidInputError("Missing ModelSpec: set model_spec.name in the GetModelStatusRequest")
        spec = request.model_spec
        version = spec.version.value if spec.WhichOneof("version_choice") == "version" else None
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
            for name in set(self._configs) - set(new_configs):
                self._attempts.forget_missing(name, {})  # a removed model has nothing to retry
            with self._lock:
                self._configs = new_configs
                self._statuses = {name: self._statuses.get(name, {}) for name in new_configs}
                self._serving = {name: self._serving.get(name, {}) for name in new_configs}
                self._labels = {name: self._labels[name] for name in new_configs if name in self._labels}
            self._changed()
            logger.info("model config reloaded: serving %s", sorted(new_configs))
        self.poll_once()
        self._apply_labels(new_configs)

    def state(self) -> LifecycleState:
        """A copy of the state requests and GetModelStatus see, for a follower to take over."""
        with self._lock:
            return LifecycleState(
                dict(self._configs),
                {name: dict(statuses) for name, statuses in self._statuses.items()},
                {name: dict(labels) for name, labels in self._labels.items()},
                {name: sorted(versions) for name, versions in self._serving.items()},
            )

    def paused(self) -> threading.Lock:
        """A lock: while it is held, no poll, load, unload or config reload runs (``with manager.paused(): ...``)."""
        return self._poll_lock

    def _apply_labels(self, configs: dict[str, ModelConfig]) -> None:
        """Point each model's labels at their versions; all of a model's labels, or none of them.

        FAILED_PRECONDITION, keeping the model's previous labels, when a label names a version
        that is not serving, as TF Serving answers a config reload.
        """
        problems = []
        for name, config in configs.items():
            serving = self._serving.get(name, {})
            missing = {label: v for label, v in config.version_labels.items() if v not in serving}
            if missing:
                problems += [
                    f"Request to assign label {label!r} to version {v} of model {name!r}, which is not "
                    "currently available for inference"
                    for label, v in sorted(missing.items())
                ]
                continue
            with self._lock:
                self._labels[name] = {**config.version_labels, **self._followed_applied.get(name, {})}
            self._changed()
        if problems:
            raise ModelConfigError(
                "; ".join(problems) + ". Load the version first, or point the label at a serving version.",
                code="FAILED_PRECONDITION",
            )

    def follow_labels(self, name: str, labels: dict[str, int], standby: set[int] | None = None) -> None:
        """Serve ``labels`` (label -> version) for model ``name``, as a registry's aliases say.

        The next poll loads (and warms up) each labelled version, even one the version policy
        would not pick, and moves a label only once its version serves: until then, and for good
        if it fails to load, the label keeps answering with the version it named before, and
        :meth:`label_problems` (and the log) say why. ``standby`` versions (the ones the labels
        named before) are kept loaded too, so that moving a label back to one is only a swap.
        """
        with self._lock:
            self._followed[name] = dict(labels)
            self._standby[name] = set(standby or ())

    def label_problems(self) -> dict[str, str]:
        """``{"model@label": why it still names its old version}`` for followed labels that wait."""
        with self._lock:
            return {f"{name}@{label}": why for (name, label), why in self._label_problems.items()}

    def poll_once(self, retries_only: bool = False) -> None:
        """Scan every model's base path once and load or unload versions to match its policy.

        ``retries_only`` only retries failed loads that are due (polling off, retries on).
        """
        with self._poll_lock:
            for config in list(self._configs.values()):
                try:
                    self._poll_model(config, retries_only)
                except Exception:  # keep serving and polling the other models
                    logger.exception("polling model %r at %r failed", config.name, config.base_path)

    def _poll_loop(self) -> None:
        retries_only = self._poll_wait_seconds <= 0
        while not self._stop.wait(self._next_wait()):
            self.poll_once(retries_only)

    def _next_wait(self) -> float:
        """Seconds to the next poll: the poll interval, or sooner when a retry is due."""
        waits = [self._poll_wait_seconds] if self._poll_wait_seconds > 0 else []
        due = self._attempts.next_due()
        if due is not None:
            waits.append(due - time.monotonic())
        elif not waits:
            waits.append(self._retry.interval_s)  # polling off and nothing to retry: look again later
        return max(min(waits), 0.01)

    def _poll_model(self, config: ModelConfig, retries_only: bool = False) -> None:
        on_disk = list_version_dirs(config.base_path)
        self._attempts.forget_missing(config.name, on_disk)
        followed = {v for v in [*self._followed.get(config.name, {}).values(), *self._standby.get(config.name, ())] if v in on_disk}
        wanted = select_versions(config.model_version_policy, on_disk) | followed
        wanted |= set(self._followed_applied.get(config.name, {}).values())  # kept until its label moves
        self._cancel_unwanted_retries(config.name, wanted)
        if not wanted:
            if config.name not in self._empty:  # say it once, not on every poll
                self._empty.add(config.name)
                policy = describe_policy(config.model_version_policy)
                logger.warning("model %r: no version under %r fits %s", config.name, config.base_path, policy)
            return
        self._empty.discard(config.name)
        for version in sorted(wanted, reverse=True):
            if version in on_disk and self._needs_load(config.name, version, on_disk[version], retries_only):
                self._load(config.name, version, on_disk[version])
        self._apply_followed_labels(config.name, on_disk)
        if not retries_only:
            applied = set(self._followed_applied.get(config.name, {}).values())
            self._unload_unwanted(config.name, select_versions(config.model_version_policy, on_disk) | followed | applied)

    def _apply_followed_labels(self, name: str, on_disk: dict[int, str]) -> None:
        """Move each followed label whose version now serves; note why the others wait."""
        serving = self._serving.get(name, {})
        applied = dict(self._followed_applied.get(name, {}))
        for label, version in sorted(self._followed.get(name, {}).items()):
            key = (name, label)
            if version in serving:
                applied[label] = version
                self._label_problems.pop(key, None)
                continue
            why = self._why_not_serving(name, version, on_disk)
            if why and self._label_problems.get(key) != why:
                self._label_problems[key] = why
                kept = f"still answers with version {applied[label]}" if label in applied else "is not served yet"
                logger.error("model %r: label %r %s: version %d %s", name, label, kept, version, why)
        if applied != self._followed_applied.get(name, {}):
            with self._lock:
                self._followed_applied[name] = applied
                self._labels[name] = {**self._labels.get(name, {}), **applied}
            self._changed()
            logger.info("model %r: labels now %s", name, applied)

    def _why_not_serving(self, name: str, version: int, on_disk: dict[int, str]) -> str:
        """Why a version is not serving ("" while it is still loading)."""
        config = self._configs[name]
        if version not in on_disk:
            return f"has no folder under {config.base_path!r}"
        status = self._statuses[name].get(version)
        if status is not None and status.state == "END" and status.error_code != "OK":
            return f"failed to load: {status.error_message}"
        return ""

    def _cancel_unwanted_retries(self, name: str, wanted: set[int]) -> None:
        """A version waiting for a retry that the policy no longer wants (a newer one came) ends."""
        for version, status in list(self._statuses[name].items()):
            if version not in wanted and status.state == "LOADING":
                self._attempts.succeeded(name, version)  # forget it: nothing is due for it any more
                self._set_status(
                    name,
                    VersionStatus(
                        version, "END", "CANCELLED", "the version policy no longer wants this version; "
                        "its load was not retried",
                    ),
                )  # fmt: skip

    def _needs_load(self, name: str, version: int, path: str, retries_only: bool) -> bool:
        """Whether to (re)load a version now.

        Not tried yet, unloaded earlier, a failed load whose retry is due, or a failed version
        whose folder was replaced since (deleted and written again).
        """
        status = self._statuses[name].get(version)
        if status is None or (status.state == "END" and status.error_code == "OK"):
            return not retries_only
        if status.state == "LOADING":
            return self._attempts.retry_due(name, version)
        return status.state == "END" and self._attempts.replaced(name, version, path)

    def _load(self, name: str, version: int, path: str) -> None:
        attempt = self._attempts.start(name, version, path)
        self._set_status(name, VersionStatus(version, "LOADING"))
        logger.info("model %r: loading version %d from %r (attempt %d)", name, version, path, attempt + 1)
        try:
            servable = self._open(name, version, path)
        except Exception as exc:  # noqa: BLE001 - any failure is this version's, reported in its status
            self._load_failed(name, version, attempt, exc)
            return
        self._attempts.succeeded(name, version)
        with self._lock:
            self._serving[name] = {**self._serving[name], version: servable}
            self._statuses[name][version] = VersionStatus(version, "AVAILABLE")
        self._changed()
        logger.info("model %r: version %d is serving", name, version)

    def _load_failed(self, name: str, version: int, attempt: int, exc: Exception) -> None:
        """Retry later while retries are left (state stays LOADING); else END with the error."""
        code = exc.code if isinstance(exc, StatusError) else "UNKNOWN"
        message = str(exc) or type(exc).__name__
        if attempt < self._retry.max_retries:
            self._attempts.schedule_retry(name, version, self._retry.interval_s)
            logger.warning(
                "model %r: version %d failed to load (retry %d of %d in %.3g s): %s",
                name, version, attempt + 1, self._retry.max_retries, self._retry.interval_s, message,
            )  # fmt: skip
            return
        self._attempts.failed(name, version)
        logger.error(
            "model %r: version %d failed to load: %s",
            name,
            version,
            message,
            exc_info=not isinstance(exc, StatusError),
        )
        self._set_status(name, VersionStatus(version, "END", code, message))

    def _unload_unwanted(self, name: str, wanted: set[int]) -> None:
        serving = self._serving[name]
        if not wanted & set(serving):
            return  # nothing the policy wants is up yet: keep what serves now
        unloaded = sorted(set(serving) - wanted)
        for version in unloaded:
            self._set_status(name, VersionStatus(version, "UNLOADING"))
            with self._lock:
                self._serving[name] = {v: s for v, s in self._serving[name].items() if v != version}
                self._statuses[name][version] = VersionStatus(version, "END")
            self._changed()
            self._close(name, version)
            logger.info("model %r: version %d unloaded", name, version)
        if unloaded:
            del serving  # the last reference this thread holds to the unloaded versions
            if self._manage_memory:
                release_memory()

    def _set_status(self, name: str, status: VersionStatus) -> None:
        with self._lock:
            self._statuses[name][status.version] = status
        self._changed()

    def _open(self, name: str, version: int, path: str) -> V:
        """Load one version, ready to serve; raise (a StatusError where the cause is known) if it fails."""
        raise NotImplementedError

    def _changed(self) -> None:
        """The state changed (a status, a label, the models or the serving versions); called unlocked."""

    def _close(self, name: str, version: int) -> None:
        """Release a version that no longer serves, once that change was announced by :meth:`_changed`."""


class ModelManager(VersionLifecycle[Servable]):
    """Serves the versions that each model's version policy picks from its base path, in this process."""

    def _open(self, name: str, version: int, path: str) -> Servable:
        servable = Servable(name, version, path)
        if self._enable_warmup:
            warm_up(servable)
        if self._manage_memory:
            freeze_loaded()
        return servable


def _configs_by_name(config: ModelServerConfig) -> dict[str, ModelConfig]:
    configs = {model.name: model for model in config.model_config_list.config}
    if not configs:
        raise ModelConfigError(
            "the model server config names no model; pass --model_name and --model_base_path or "
            "--model_config_file"
        )
    return configs
