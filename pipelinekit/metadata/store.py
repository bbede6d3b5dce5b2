"""A thread-safe facade over the ML Metadata store that speaks in pipelinekit terms.

Contexts: ``pipeline`` (one per pipeline), ``pipeline_run`` (one per run) and ``node`` (one per
node of a pipeline). Each node run is an execution whose type is the component name; INPUT and
OUTPUT events tie it to artifacts. Publishing writes execution, artifacts and events in one
MLMD transaction (``put_execution``), so a reader never sees half of it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pipelinekit.dsl.metadata_config import MetadataConfig
from pipelinekit.errors import MetadataError, MissingDependencyError
from pipelinekit.types.artifact import Artifact

__all__ = [
    "MetadataStore",
    "ExecutionRecord",
    "RunRecord",
    "EventRecord",
    "PIPELINE",
    "PIPELINE_RUN",
    "NODE",
    "run_context_name",
    "node_context_name",
]

PIPELINE, PIPELINE_RUN, NODE = "pipeline", "pipeline_run", "node"
F = TypeVar("F", bound=Callable[..., Any])
_SEPARATOR = "/"
"""Joins a pipeline name to a run or node id in context names; names and ids cannot contain it,
so pipelines ``demo`` and ``demo.v2`` never share a context."""
_OPEN_ATTEMPTS = 6


def run_context_name(pipeline_name: str, run_id: str) -> str:
    """The name of a run's ``pipeline_run`` context."""
    return f"{pipeline_name}{_SEPARATOR}{run_id}"


def node_context_name(pipeline_name: str, node_id: str) -> str:
    """The name of a node's ``node`` context."""
    return f"{pipeline_name}{_SEPARATOR}{node_id}"


@dataclass(frozen=True)
class ExecutionRecord:
    """One stored execution: its id, component type, state and custom properties."""

    id: int
    type_name: str
    state: str
    properties: dict[str, Any]

    @property
    def node_id(self) -> str:
        return self.properties.get("node_id", "")


@dataclass(frozen=True)
class RunRecord:
    """One pipeline run as recorded in its ``pipeline_run`` context."""

    context_id: int
    run_id: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class EventRecord:
    """One INPUT or OUTPUT event: which execution read or wrote which artifact, under which key and index."""

    execution_id: int
    artifact_id: int
    direction: str
    key: str
    index: int


def _locked(method: F) -> F:
    """Serialize calls on one store and turn MLMD errors into MetadataError naming the store."""

    @functools.wraps(method)
    def wrapper(self: MetadataStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except self._mlmd_errors as error:
                raise MetadataError(f"ML Metadata store {self.config.describe()}: {method.__name__} failed: {error}") from error

    return wrapper  # type: ignore[return-value]


class MetadataStore:
    """Opens the store described by ``config``; use one instance per process and share it."""

    def __init__(self, config: MetadataConfig) -> None:
        try:
            from ml_metadata import errors as mlmd_errors
            from ml_metadata.metadata_store import metadata_store
            from ml_metadata.proto import metadata_store_pb2
        except ImportError as error:  # pragma: no cover - ml-metadata is a core dependency
            raise MissingDependencyError("ml_metadata", "recording lineage", "pip install ml-metadata==1.16.0") from error
        self.config = config
        self._pb = metadata_store_pb2
        self._mlmd_errors = (mlmd_errors.StatusError,)
        self._already_exists = mlmd_errors.AlreadyExistsError
        self._lock = threading.RLock()
        self._type_ids: dict[tuple[str, str], int] = {}
        self._contexts: dict[tuple[str, str], Any] = {}
        if config.kind == "sqlite":
            try:
                os.makedirs(os.path.dirname(config.path) or ".", exist_ok=True)
            except OSError as error:
                raise MetadataError(f"cannot create the folder of ML Metadata store {config.describe()}: {error}") from error
        try:
            self._store = self._open(metadata_store)
        except (RuntimeError, *self._mlmd_errors) as error:  # a failed MySQL connect is a bare RuntimeError
            raise MetadataError(
                f"cannot open ML Metadata store {config.describe()}: {error or type(error).__name__}; "
                "check that the server is running and the database, user and password are right"
                if config.kind == "mysql"
                else f"cannot open ML Metadata store {config.describe()}: {error}"
            ) from error

    def _open(self, metadata_store: Any) -> Any:
        """Connect. Processes that start together on a new SQLite file would race to create its
        tables (MLMD then refuses the half-made schema it sees, and the one creating it can fail on
        a locked database), so SQLite stores are opened one process at a time, under an advisory
        lock on their folder; brief retries remain for transient errors."""
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                with _sqlite_open_lock(self.config):
                    return metadata_store.MetadataStore(self.config.to_connection_config())
            except self._mlmd_errors:
                if self.config.kind != "sqlite" or attempt == _OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    @property
    def raw(self) -> Any:
        """The underlying ``ml_metadata.MetadataStore``, for queries this facade does not cover."""
        return self._store

    # Types and contexts -------------------------------------------------------------------------

    def _type_id(self, kind: str, name: str, artifact_class: type[Artifact] | None = None) -> int:
        key = (kind, name)
        if key not in self._type_ids:
            if kind == "artifact":
                from pipelinekit.metadata.convert import artifact_type_proto

                proto = artifact_type_proto(artifact_class)  # type: ignore[arg-type]
                self._type_ids[key] = self._store.put_artifact_type(proto, can_add_fields=True, can_omit_fields=True)
            elif kind == "execution":
                self._type_ids[key] = self._store.put_execution_type(self._pb.ExecutionType(name=name))
            else:
                self._type_ids[key] = self._store.put_context_type(self._pb.ContextType(name=name))
        return self._type_ids[key]

    @_locked
    def context(self, type_name: str, name: str, properties: dict[str, Any] | None = None) -> Any:
        """Get or create the context ``name`` of ``type_name`` (pipeline, pipeline_run or node)."""
        key = (type_name, name)
        if key not in self._contexts:
            existing = self._store.get_context_by_type_and_name(type_name, name)
            if existing is None:
                existing = self._pb.Context(type_id=self._type_id("context", type_name), name=name)
                self._set_custom(existing, properties or {})
                try:
                    [existing.id] = self._store.put_contexts([existing])
                except self._already_exists:  # another process created it a moment ago: use theirs
                    existing = self._store.get_context_by_type_and_name(type_name, name)
            self._contexts[key] = existing
        return self._contexts[key]

    @_locked
    def update_context(self, type_name: str, name: str, properties: dict[str, Any]) -> None:
        """Set custom properties on an existing context (for example a run's status)."""
        context = self._store.get_context_by_type_and_name(type_name, name)
        self._set_custom(context, properties)
        self._store.put_contexts([context])
        self._contexts[(type_name, name)] = context

    # Executions ---------------------------------------------------------------------------------

    @_locked
    def register_execution(
        self, type_name: str, contexts: list[Any], inputs: dict[str, list[Artifact]], properties: dict[str, Any]
    ) -> int:
        """Record a RUNNING execution with INPUT events for ``inputs``; returns its id."""
        execution = self._pb.Execution(type_id=self._type_id("execution", type_name), last_known_state=self._pb.Execution.RUNNING)
        self._set_custom(execution, properties)
        pairs = self._artifact_events(inputs, self._pb.Event.INPUT)
        execution_id, _, _ = self._store.put_execution(execution, pairs, contexts, reuse_context_if_already_exist=True)
        return execution_id

    @_locked
    def publish_execution(
        self, execution_id: int, contexts: list[Any], outputs: dict[str, list[Artifact]], properties: dict[str, Any]
    ) -> None:
        """Mark the execution COMPLETE and store its outputs LIVE with OUTPUT events, in one transaction."""
        for artifacts in outputs.values():
            for artifact in artifacts:
                artifact.state = "LIVE"
        self._finish(execution_id, "COMPLETE", contexts, outputs, properties)

    @_locked
    def fail_execution(self, execution_id: int, contexts: list[Any], properties: dict[str, Any], state: str = "FAILED") -> None:
        """Mark the execution FAILED (or CANCELED, when it was interrupted); it gets no output artifacts."""
        self._finish(execution_id, state, contexts, {}, properties)

    @_locked
    def record_cached_execution(
        self,
        type_name: str,
        contexts: list[Any],
        inputs: dict[str, list[Artifact]],
        outputs: dict[str, list[Artifact]],
        properties: dict[str, Any],
    ) -> int:
        """Record a CACHED execution linked to the inputs it would have read and the outputs it reuses."""
        execution = self._pb.Execution(type_id=self._type_id("execution", type_name), last_known_state=self._pb.Execution.CACHED)
        self._set_custom(execution, properties)
        pairs = self._artifact_events(inputs, self._pb.Event.INPUT) + self._artifact_events(outputs, self._pb.Event.OUTPUT)
        execution_id, _, _ = self._store.put_execution(execution, pairs, contexts, reuse_context_if_already_exist=True)
        return execution_id

    def _finish(
        self, execution_id: int, state: str, contexts: list[Any], outputs: dict[str, list[Artifact]], properties: dict[str, Any]
    ) -> None:
        [execution] = self._store.get_executions_by_id([execution_id])
        execution.last_known_state = self._pb.Execution.State.Value(state)
        self._set_custom(execution, properties)
        pairs = self._artifact_events(outputs, self._pb.Event.OUTPUT)
        _, artifact_ids, _ = self._store.put_execution(execution, pairs, contexts, reuse_context_if_already_exist=True)
        for artifact, artifact_id in zip([a for group in outputs.values() for a in group], artifact_ids):
            artifact.id = artifact_id

    def _artifact_events(self, artifacts: dict[str, list[Artifact]], event_type: int) -> list[tuple[Any, Any]]:
        from pipelinekit.metadata.convert import artifact_to_proto

        pairs = []
        for key, group in artifacts.items():
            for index, artifact in enumerate(group):
                type_id = self._type_id("artifact", artifact.TYPE_NAME, type(artifact))
                event = self._pb.Event(type=event_type)
                event.path.steps.add(key=key)
                event.path.steps.add(index=index)
                pairs.append((artifact_to_proto(artifact, type_id), event))
        return pairs

    def _set_custom(self, proto: Any, properties: dict[str, Any]) -> None:
        from pipelinekit.metadata.convert import to_value

        for key, value in properties.items():
            if value is not None:
                proto.custom_properties[key].CopyFrom(to_value(value))

    # Queries ------------------------------------------------------------------------------------

    @_locked
    def executions_in_context(
        self, type_name: str, name: str, states: tuple[str, ...] = (), cache_key: str = "", limit: int = 100
    ) -> list[ExecutionRecord]:
        """The newest ``limit`` executions attributed to a context, optionally only in ``states``
        or with ``cache_key``. Filtered by MLMD itself, so the cost does not grow with history.
        Names are pipeline and node ids, which the compiler restricts to quote-free characters."""
        from ml_metadata.metadata_store import metadata_store

        clauses = [f"contexts_a.type = '{type_name}'", f"contexts_a.name = '{name}'"]
        if states:
            clauses.append("(" + " OR ".join(f"last_known_state = {state}" for state in states) + ")")
        if cache_key:
            clauses.append(f"custom_properties.cache_key.string_value = '{cache_key}'")
        options = metadata_store.ListOptions(
            filter_query=" AND ".join(clauses), order_by=metadata_store.OrderByField.ID, is_asc=False, limit=limit
        )
        return [self._record(e) for e in self._store.get_executions(list_options=options)]

    @_locked
    def executions_by_id(self, execution_ids: list[int]) -> list[ExecutionRecord]:
        return [self._record(e) for e in self._store.get_executions_by_id(execution_ids)]

    def _record(self, execution: Any) -> ExecutionRecord:
        from pipelinekit.metadata.convert import from_value

        type_name = self._execution_type_name(execution.type_id)
        properties = {k: from_value(v) for k, v in execution.custom_properties.items()}
        state = self._pb.Execution.State.Name(execution.last_known_state)
        return ExecutionRecord(execution.id, type_name, state, properties)

    @functools.cache  # noqa: B019 - one store per process, types never change name
    def _execution_type_name(self, type_id: int) -> str:
        return self._store.get_execution_types_by_id([type_id])[0].name

    @functools.cache  # noqa: B019
    def _artifact_type_name(self, type_id: int) -> str:
        return self._store.get_artifact_types_by_id([type_id])[0].name

    @_locked
    def artifacts_by_id(self, artifact_ids: list[int]) -> list[Artifact]:
        from pipelinekit.metadata.convert import artifact_from_proto

        protos = self._store.get_artifacts_by_id(artifact_ids)
        return [artifact_from_proto(p, self._artifact_type_name(p.type_id)) for p in protos]

    @_locked
    def artifacts_of_execution(self, execution_id: int, direction: str) -> dict[str, list[Artifact]]:
        """The artifacts an execution read (``"INPUT"``) or wrote (``"OUTPUT"``), by key, in order."""
        wanted = self._pb.Event.Type.Value(direction)
        events = [e for e in self._store.get_events_by_execution_ids([execution_id]) if e.type == wanted]
        by_id = {a.id: a for a in self.artifacts_by_id([e.artifact_id for e in events])}
        grouped: dict[str, list[tuple[int, Artifact]]] = {}
        for event in events:
            key = event.path.steps[0].key if event.path.steps else ""
            index = event.path.steps[1].index if len(event.path.steps) > 1 else 0
            grouped.setdefault(key, []).append((index, by_id[event.artifact_id]))
        return {key: [a for _, a in sorted(pairs, key=lambda p: p[0])] for key, pairs in grouped.items()}

    @_locked
    def events_of_artifact(self, artifact_id: int) -> list[tuple[str, int]]:
        """``(event type, execution id)`` for every event touching the artifact."""
        events = self._store.get_events_by_artifact_ids([artifact_id])
        return [(self._pb.Event.Type.Name(e.type), e.execution_id) for e in events]

    @_locked
    def events(self, execution_ids: Sequence[int] = (), artifact_ids: Sequence[int] = ()) -> list[EventRecord]:
        """The INPUT and OUTPUT events of the executions, or of the artifacts, in one query each."""
        found = []
        if execution_ids:
            found.extend(self._store.get_events_by_execution_ids(list(execution_ids)))
        if artifact_ids:
            found.extend(self._store.get_events_by_artifact_ids(list(artifact_ids)))
        kinds = {self._pb.Event.INPUT: "INPUT", self._pb.Event.OUTPUT: "OUTPUT"}
        records = set()
        for event in found:
            if event.type in kinds:
                steps = event.path.steps
                key = steps[0].key if steps else ""
                index = steps[1].index if len(steps) > 1 else 0
                records.add(EventRecord(event.execution_id, event.artifact_id, kinds[event.type], key, index))
        return sorted(records, key=lambda e: (e.execution_id, e.direction, e.key, e.index))

    @_locked
    def runs(self, pipeline_name: str) -> list[RunRecord]:
        """Runs of a pipeline, newest first."""
        from pipelinekit.metadata.convert import from_value

        contexts = self._store.get_contexts_by_type(PIPELINE_RUN)
        prefix = run_context_name(pipeline_name, "")
        records = [
            RunRecord(c.id, c.name[len(prefix) :], {k: from_value(v) for k, v in c.custom_properties.items()})
            for c in contexts
            if c.name.startswith(prefix)
        ]
        return sorted(records, key=lambda r: r.context_id, reverse=True)

    @_locked
    def pipeline_names(self) -> list[str]:
        return sorted(c.name for c in self._store.get_contexts_by_type(PIPELINE))

    @_locked
    def running_executions(self, pipeline_name: str) -> list[tuple[ExecutionRecord, list[Any]]]:
        """Executions of a pipeline still marked RUNNING, each with its contexts."""
        from ml_metadata.metadata_store import metadata_store

        options = metadata_store.ListOptions(
            filter_query=f"contexts_a.type = '{PIPELINE}' AND contexts_a.name = '{pipeline_name}' AND last_known_state = RUNNING"
        )
        executions = self._store.get_executions(list_options=options)
        return [(self._record(e), self._store.get_contexts_by_execution(e.id)) for e in executions]

    @_locked
    def running_runs(self, pipeline_name: str) -> list[RunRecord]:
        """Runs of a pipeline whose context still says RUNNING."""
        from ml_metadata.metadata_store import metadata_store

        prefix = run_context_name(pipeline_name, "")
        options = metadata_store.ListOptions(
            filter_query=f"type = '{PIPELINE_RUN}' AND custom_properties.status.string_value = 'RUNNING'"
        )
        from pipelinekit.metadata.convert import from_value

        return [
            RunRecord(c.id, c.name[len(prefix) :], {k: from_value(v) for k, v in c.custom_properties.items()})
            for c in self._store.get_contexts(list_options=options)
            if c.name.startswith(prefix)
        ]

    @_locked
    def record_execution(
        self, type_name: str, state: str, contexts: list[Any], inputs: dict[str, list[Artifact]], properties: dict[str, Any]
    ) -> int:
        """Record an execution that is already over, in one transaction: a Resolver's (COMPLETE,
        with INPUT events for what it chose) or a skipped node's (CANCELED, with the reason)."""
        execution = self._pb.Execution(
            type_id=self._type_id("execution", type_name), last_known_state=self._pb.Execution.State.Value(state)
        )
        self._set_custom(execution, properties)
        pairs = self._artifact_events(inputs, self._pb.Event.INPUT)
        execution_id, _, _ = self._store.put_execution(execution, pairs, contexts, reuse_context_if_already_exist=True)
        return execution_id

    @_locked
    def live_artifacts(self, pipeline_name: str, type_name: str, producer_node: str = "", output_key: str = "") -> list[Artifact]:
        """LIVE ``type_name`` artifacts of a pipeline, newest first; with ``producer_node`` (and
        ``output_key``) only those that node published (under that key). What a channel without
        a producer node stands for."""
        from ml_metadata.metadata_store import metadata_store

        from pipelinekit.metadata.convert import artifact_from_proto

        for value in (pipeline_name, type_name, producer_node, output_key):
            if "'" in value or "\\" in value:
                raise MetadataError(f"cannot query ML Metadata for the name {value!r}: it contains a quote or backslash")
        clauses = [f"type = '{type_name}'", "state = LIVE", f"contexts_a.type = '{PIPELINE}'", f"contexts_a.name = '{pipeline_name}'"]
        for key, value in (("producer_node", producer_node), ("output_key", output_key)):
            if value:
                clauses.append(f"custom_properties.{key}.string_value = '{value}'")
        options = metadata_store.ListOptions(filter_query=" AND ".join(clauses), order_by=metadata_store.OrderByField.ID, is_asc=False)
        return [artifact_from_proto(p, type_name) for p in self._store.get_artifacts(list_options=options)]


@contextlib.contextmanager
def _sqlite_open_lock(config: MetadataConfig) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the SQLite file's folder (not on the file: closing another
    descriptor of it would drop SQLite's own locks); no lock for MySQL."""
    if config.kind != "sqlite":
        yield
        return
    import fcntl

    folder = os.open(os.path.dirname(os.path.abspath(config.path)), os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)  # releases the lock
