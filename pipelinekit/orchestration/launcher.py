"""Runs one node through named phases: resolve inputs, look up the cache, register the
execution, run the executor in a staging folder, publish atomically (or record the failure)."""

from __future__ import annotations

import os
import shutil
import threading
import time
import traceback
from typing import Any

import pipelinekit
from pipelinekit.compile.plan import Plan
from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.dsl.node import bound_parameters
from pipelinekit.dsl.resolver import Resolver
from pipelinekit.errors import ComponentFailedError, RunError, RunInterrupted
from pipelinekit.metadata.names import NODE, PIPELINE, PIPELINE_RUN, execution_type_name, node_context_name
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.orchestration.cache import (
    CacheKey,
    compute_cache_key,
    describe_change,
    effective_parameters,
    recorded_parameters,
)
from pipelinekit.orchestration.executor_loader import call_executor, load_executor
from pipelinekit.orchestration.fingerprint import path_fingerprint, path_manifest
from pipelinekit.orchestration.frozen_heap import frozen_heap
from pipelinekit.orchestration.listener import RunListener
from pipelinekit.orchestration.ownership import current_owner
from pipelinekit.orchestration.recovery import staging_folder
from pipelinekit.orchestration.resolution import Binding, ResolutionPhase, event_groups
from pipelinekit.orchestration.result import CACHED, FAILED, RAN, NodeResult
from pipelinekit.types.artifact import Artifact

__all__ = ["NodeLauncher", "user_traceback"]

_LIBRARY_DIR = os.path.dirname(os.path.abspath(pipelinekit.__file__))


def user_traceback(error: BaseException) -> str:
    """The traceback of ``error`` without pipelinekit's own frames: just the code the user wrote."""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if not os.path.abspath(f.filename).startswith(_LIBRARY_DIR) and not f.filename.startswith("<frozen ")
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "".join(lines)


class NodeLauncher:
    """Launches the nodes of one run of ``plan``; safe to call from several threads at once."""

    def __init__(self, plan: Plan, store: MetadataStore, run_id: str, listener: RunListener) -> None:
        self.plan = plan
        self.store = store
        self.run_id = run_id
        self.listener = listener
        self._keys: dict[tuple[Any, ...], CacheKey] = {}
        self._keys_lock = threading.Lock()
        self._in_flight: dict[int, tuple[list[Any], str]] = {}
        self._stopped = False
        self._publish_lock = threading.Lock()
        self._owner = current_owner()

    def contexts(self, node_id: str) -> list[Any]:
        name = self.plan.pipeline_name
        return [
            self.store.context(PIPELINE, name),
            self.store.context(PIPELINE_RUN, self.run_id),
            self.store.context(NODE, node_context_name(name, node_id)),
        ]

    def stop(self, reason: str) -> list[int]:
        """Cancel the executions now running (the run was interrupted): each is marked CANCELED
        and its outputs will not be published. Returns their ids."""
        with self._publish_lock:
            self._stopped = True
            cancelled = dict(self._in_flight)
            self._in_flight.clear()
        for execution_id, (contexts, staging) in cancelled.items():
            self.store.fail_execution(execution_id, contexts, {"finished_at": time.time(), "error": reason}, state="CANCELED")
            shutil.rmtree(staging, ignore_errors=True)  # the executor may still be writing: nothing of it is kept
            _remove_if_empty(os.path.dirname(staging))
        return sorted(cancelled)

    def launch(self, node_id: str, finished: dict[str, NodeResult], cached_only: bool = False) -> NodeResult | None:
        """Run or reuse ``node_id``; ``finished`` holds the results of its upstream nodes.
        With ``cached_only``, return ``None`` instead of running on a cache miss. A Resolver is
        resolved afresh every time; a node whose condition is false or whose required input got
        nothing is skipped (see ``orchestration.resolution``)."""
        started = time.time()
        node = self.plan.nodes[node_id]
        phase = ResolutionPhase(
            self.store,
            self.plan.pipeline_name,
            self.run_id,
            finished,
            self.contexts(node_id),
            started,
            self.plan.runtime_parameters,
        )
        if isinstance(node, Resolver):
            return phase.resolve(node)
        binding = phase.bind(node)
        if binding.skip_reason:
            return phase.skip(node, binding.skip_reason)
        inputs: dict[str, Any] = binding.inputs  # one artifact, None, or a list for a multiple input
        with bound_parameters(node, binding.parameters):  # the memo keys on inputs only, so not with placeholders
            keyed = binding.keyed_inputs()
            key = compute_cache_key(node, keyed) if binding.parameters else self._cache_key(node_id, keyed)
            if self.plan.enable_cache:
                outputs, reason = self._look_up_cache(node_id, key)
                if outputs is not None:
                    return self._record_cached(node_id, key, inputs, outputs, reason, started)
            else:
                reason = "cache disabled"
            if cached_only:
                return None
            self.listener.node_started(node_id, reason)
            return self._execute(node_id, key, inputs, reason, started, binding)

    # Phase 2: cache -----------------------------------------------------------------------------

    def _cache_key(self, node_id: str, inputs: dict[str, Artifact | None]) -> CacheKey:
        """The node's cache key, computed once per run for the same inputs (a Beam run asks twice:
        once to find cached nodes before Beam starts, once when the node's turn comes)."""
        memo = (node_id, tuple((name, a.id if a else None) for name, a in sorted(inputs.items())))
        with self._keys_lock:
            if memo in self._keys:
                return self._keys[memo]
        key = compute_cache_key(self.plan.nodes[node_id], inputs)
        with self._keys_lock:
            self._keys[memo] = key
        return key

    def _look_up_cache(self, node_id: str, key: CacheKey) -> tuple[dict[str, list[Artifact]] | None, str]:
        pipeline_name = self.plan.pipeline_name
        stale = ""
        for record in self.store.node_executions(pipeline_name, node_id, ("COMPLETE",), key.digest, limit=5):
            outputs = self.store.artifacts_of_execution(record.id, "OUTPUT")
            damaged = [
                a.uri for group in outputs.values() for a in group if path_manifest(a.uri) != a.custom_properties.get("manifest")
            ]
            if not damaged:
                return outputs, f"cache hit: same key as execution {record.id}"
            stale = f"outputs of execution {record.id} with the same key were deleted or changed ({damaged[0]})"
        if stale:
            return None, stale
        last = self.store.node_executions(pipeline_name, node_id, ("COMPLETE", "CACHED", "FAILED", "CANCELED"), limit=1)
        if not last or not isinstance(last[0].properties.get("cache_parts"), dict):
            return None, "first run of this node"
        if last[0].properties.get("cache_key") == key.digest and last[0].state in ("FAILED", "CANCELED"):
            error = str(last[0].properties.get("error") or "no error recorded").splitlines()[0][:200]
            return None, f"previous execution {last[0].id} with this key was {last[0].state} ({error})"
        return None, describe_change(last[0].properties["cache_parts"], key.parts)

    def _record_cached(
        self,
        node_id: str,
        key: CacheKey,
        inputs: dict[str, Artifact | None],
        outputs: dict[str, list[Artifact]],
        reason: str,
        started: float,
    ) -> NodeResult:
        properties = self._execution_properties(node_id, key, started) | {"finished_at": time.time(), "reason": reason}
        execution_id = self.store.record_cached_execution(
            execution_type_name(self.plan.nodes[node_id]), self.contexts(node_id), _present(inputs), outputs, properties
        )
        return NodeResult(node_id, CACHED, reason, key.digest, execution_id, outputs, started, time.time())

    # Phases 3-5: register, execute, publish -----------------------------------------------------

    def _execution_properties(self, node_id: str, key: CacheKey, started: float) -> dict[str, Any]:
        return {
            "node_id": node_id,
            "run_id": self.run_id,
            "pipeline_name": self.plan.pipeline_name,
            "cache_key": key.digest,
            "cache_parts": key.parts,
            "parameters": recorded_parameters(effective_parameters(self.plan.nodes[node_id])),
            "started_at": started,
            **self._owner,
        }

    def _execute(
        self, node_id: str, key: CacheKey, inputs: dict[str, Artifact | None], reason: str, started: float, binding: Binding
    ) -> NodeResult:
        node = self.plan.nodes[node_id]
        contexts = self.contexts(node_id)
        properties = self._execution_properties(node_id, key, started) | {"reason": reason}
        with self._publish_lock:
            if self._stopped:
                raise RunInterrupted("the run was interrupted before this node started")
            execution_id = self.store.register_execution(execution_type_name(node), contexts, _present(inputs), properties)
            staging = staging_folder(self.plan.pipeline_root, node_id, execution_id)
            self._in_flight[execution_id] = (contexts, staging)
        try:
            outputs = self._prepare_outputs(node_id, execution_id, staging)
            late = binding.with_outputs(self.plan.nodes[node_id], outputs)
            self._call_executor(node_id, execution_id, key, inputs, outputs, staging, late)
            with self._publish_lock:
                if execution_id not in self._in_flight:
                    raise RunInterrupted("the run was interrupted while this node ran; its outputs were discarded")
                published = self._publish(node_id, execution_id, contexts, outputs)
                del self._in_flight[execution_id]
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM in this thread: the whole run stops
            if self._in_flight.pop(execution_id, None) is not None:
                self.store.fail_execution(
                    execution_id, contexts, {"finished_at": time.time(), "error": "interrupted"}, "CANCELED"
                )
            raise
        except BaseException as error:  # noqa: BLE001 - sys.exit() in user code fails the node, not the run
            return self._fail(node_id, execution_id, contexts, key, reason, started, error)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            _remove_if_empty(os.path.dirname(staging))
        return NodeResult(node_id, RAN, reason, key.digest, execution_id, published, started, time.time())

    def _fail(
        self,
        node_id: str,
        execution_id: int,
        contexts: list[Any],
        key: CacheKey,
        reason: str,
        started: float,
        error: BaseException,
    ) -> NodeResult:
        """Record a FAILED execution (unless the run's stop already marked it CANCELED)."""
        failure = ComponentFailedError(node_id, self.run_id, execution_id, error)
        failure.__cause__ = error
        trace = user_traceback(error)
        if self._in_flight.pop(execution_id, None) is not None:
            details = {"finished_at": time.time(), "error": str(failure), "traceback": trace[-4000:]}
            self.store.fail_execution(execution_id, contexts, details)
        return NodeResult(node_id, FAILED, reason, key.digest, execution_id, {}, started, time.time(), failure, trace)

    def _final_uri(self, node_id: str, key: str, execution_id: int) -> str:
        return os.path.join(self.plan.pipeline_root, node_id, key, str(execution_id))

    def _prepare_outputs(self, node_id: str, execution_id: int, staging: str) -> dict[str, Artifact]:
        node = self.plan.nodes[node_id]
        if node.definition.external_output:
            [(key, spec)] = node.definition.spec.outputs.items()
            return {key: spec.type(os.path.abspath(node.parameters[node.definition.external_output]))}
        outputs = {}
        for key, spec in node.definition.spec.outputs.items():
            final = self._final_uri(node_id, key, execution_id)
            if os.path.exists(final):
                raise RunError(
                    f"output folder {final} already exists but ML Metadata ({self.plan.metadata.describe()}) does not know it; "
                    f"the store was probably replaced. Move that folder away or use a new pipeline_root; nothing was changed"
                )
            artifact = spec.type(os.path.join(staging, key))
            try:
                os.makedirs(artifact.uri)
            except OSError as error:
                raise RunError(
                    f"node {node_id!r} cannot write its outputs under {self.plan.pipeline_root}: {error.strerror} "
                    f"({error.filename}); make that folder writable or choose another pipeline_root"
                ) from None
            artifact.set_custom_property("producer_node", node_id)
            artifact.set_custom_property("output_key", key)
            outputs[key] = artifact
        return outputs

    def _call_executor(
        self,
        node_id: str,
        execution_id: int,
        key: CacheKey,
        inputs: dict[str, Artifact | None],
        outputs: dict[str, Artifact],
        staging: str,
        late_parameters: dict[str, Any],
    ) -> None:
        """Call the executor; ``late_parameters`` are the values of parameters that read outputs."""
        node = self.plan.nodes[node_id]
        definition = node.definition
        arguments: dict[str, Any] = {**effective_parameters(node), **late_parameters, **inputs, **outputs}
        tmp_dir = os.path.join(staging, ".tmp")
        context = ExecutionContext(
            self.plan.pipeline_name,
            self.plan.pipeline_root,
            node_id,
            self.run_id,
            execution_id,
            tmp_dir,
            list(self.plan.beam_pipeline_args),
            _size_of(inputs) if definition.context_argument or definition.function_io else 0,
        )
        if definition.context_argument:
            os.makedirs(tmp_dir, exist_ok=True)
            arguments[definition.context_argument] = context
        executor = definition.executor
        if not callable(executor):
            executor = load_executor(definition.name, executor, key.parts.get("code_modules") or {})
        with frozen_heap():
            call_executor(definition, executor, arguments, context)

    def _publish(
        self, node_id: str, execution_id: int, contexts: list[Any], outputs: dict[str, Artifact]
    ) -> dict[str, list[Artifact]]:
        """Move outputs from staging into place, then record everything in one MLMD transaction;
        if recording fails, the moved folders are removed again. Imported data is never moved."""
        moved: list[str] = []
        in_place = bool(self.plan.nodes[node_id].definition.external_output)
        try:
            for key, artifact in outputs.items():
                if not in_place:
                    final = self._final_uri(node_id, key, execution_id)
                    os.makedirs(os.path.dirname(final), exist_ok=True)
                    os.replace(artifact.uri, final)
                    moved.append(final)
                    artifact.uri = final
                artifact.set_custom_property("fingerprint", path_fingerprint(artifact.uri))
                artifact.set_custom_property("manifest", path_manifest(artifact.uri))
            published = {key: [artifact] for key, artifact in outputs.items()}
            self.store.publish_execution(execution_id, contexts, published, {"finished_at": time.time()})
        except BaseException:
            for folder in moved:
                shutil.rmtree(folder, ignore_errors=True)
                _remove_if_empty(os.path.dirname(folder))
            raise
        return published


def _size_of(inputs: dict[str, Any]) -> int:
    """Bytes of data under the input artifacts' URIs (lists of artifacts included)."""
    total = 0
    for value in inputs.values():
        for artifact in value if isinstance(value, list) else [value]:
            if artifact is None or not os.path.exists(artifact.uri):
                continue
            for folder, _, files in os.walk(artifact.uri):
                total += sum(os.path.getsize(os.path.join(folder, name)) for name in files)
    return total


def _present(artifacts: dict[str, Any]) -> dict[str, list[Artifact]]:
    return event_groups(artifacts)


def _remove_if_empty(folder: str) -> None:
    try:
        os.rmdir(folder)
    except OSError:
        pass
