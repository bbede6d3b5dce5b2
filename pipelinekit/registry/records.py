"""How the registry lives in ML Metadata: no second store.

- A registered **version** is a context of type ``pipelinekit.ModelVersion`` named
  ``<model>@<pushed version>``; its custom properties hold what the version is (semantic version,
  serving path, blessing, metrics, parameters, code digest, libraries, training data). MLMD keeps
  context names unique, so two processes registering the same push make one version.
- An **alias move** is an execution of type ``pipelinekit.AliasMove`` (who, when, from, to, reason,
  command), attributed to the model's ``pipelinekit.RegisteredModel`` context and to the target
  version's context, with an INPUT event on the target's PushedModel artifact. Executions are only
  ever added, so the history is append-only; the move with the highest id is the one in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelinekit.errors import RegistryError
from pipelinekit.metadata.store import PIPELINE, PIPELINE_RUN, MetadataStore

__all__ = [
    "ALIAS_MOVE",
    "MODEL_CONTEXT",
    "VERSION_CONTEXT",
    "AliasMove",
    "alias_moves",
    "checked_name",
    "record_alias_move",
    "run_context",
    "set_sync_mark",
    "sync_mark",
    "version_context_name",
    "version_contexts",
]

VERSION_CONTEXT = "pipelinekit.ModelVersion"
MODEL_CONTEXT = "pipelinekit.RegisteredModel"
ALIAS_MOVE = "pipelinekit.AliasMove"
SYNC_CONTEXT = "pipelinekit.RegistrySync"


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias: ``alias`` of ``model`` now names ``version`` (was ``from_version``)."""

    id: int
    model: str
    alias: str
    version: int
    semver: str
    from_version: int | None
    who: str
    at: float
    reason: str
    command: str

    @classmethod
    def from_properties(cls, execution_id: int, properties: dict[str, Any]) -> AliasMove:
        previous = properties.get("from_version", -1)
        return cls(
            execution_id,
            properties["model"],
            properties["alias"],
            int(properties["version"]),
            properties.get("semver", ""),
            None if previous < 0 else int(previous),
            properties.get("who", ""),
            float(properties.get("at", 0.0)),
            properties.get("reason", ""),
            properties.get("command", ""),
        )


def checked_name(value: str, what: str) -> str:
    """``value`` if it can be put in an MLMD filter query; a RegistryError naming it otherwise."""
    if not value or any(c in value for c in "'\\@/") or value != value.strip():
        raise RegistryError(f"{what} {value!r} is not a valid name: use letters, digits, '_', '-' and '.'")
    return value


def version_context_name(model: str, number: int) -> str:
    return f"{model}@{number}"


def version_contexts(
    store: MetadataStore, model: str | None = None, number: int | None = None, semver: str | None = None, limit: int | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """``(context id, properties)`` of the registered versions (of ``model``; the one with pushed
    ``number`` or ``semver``; at most ``limit``), oldest push first. MLMD filters them."""
    from ml_metadata.metadata_store import metadata_store

    from pipelinekit.metadata.convert import from_value

    query = f"type = '{VERSION_CONTEXT}'"
    if model is not None:
        query += f" AND custom_properties.model.string_value = '{checked_name(model, 'model')}'"
    if number is not None:
        query += f" AND custom_properties.version.int_value = {int(number)}"
    if semver is not None:
        query += f" AND custom_properties.semver.string_value = '{checked_name(semver, 'version')}'"
    options = metadata_store.ListOptions(filter_query=query, limit=limit)
    contexts = store.raw.get_contexts(list_options=options)
    found = [(c.id, {k: from_value(v) for k, v in c.custom_properties.items()}) for c in contexts]
    return sorted(found, key=lambda pair: int(pair[1]["version"]))


def run_context(store: MetadataStore, pipeline: str, run_id: str) -> Any | None:
    """A run's ``pipeline_run`` context, found through one of the run's executions (how that
    context is named is the metadata layer's business); None for an unknown run."""
    from ml_metadata.metadata_store import metadata_store

    query = (
        f"custom_properties.run_id.string_value = '{checked_name(run_id, 'run')}' "
        f"AND contexts_a.type = '{PIPELINE}' AND contexts_a.name = '{checked_name(pipeline, 'pipeline')}'"
    )
    executions = store.raw.get_executions(list_options=metadata_store.ListOptions(filter_query=query, limit=1))
    if not executions:
        return None
    run_type = store.raw.get_context_type(PIPELINE_RUN).id
    return next((c for c in store.raw.get_contexts_by_execution(executions[0].id) if c.type_id == run_type), None)


def sync_mark(store: MetadataStore) -> int:
    """The id of the newest PushedModel a registry sync has looked at (0 before the first)."""
    context = store.raw.get_context_by_type_and_name(SYNC_CONTEXT, SYNC_CONTEXT)
    return int(context.custom_properties["last_artifact_id"].int_value) if context is not None else 0


def set_sync_mark(store: MetadataStore, artifact_id: int) -> None:
    store.context(SYNC_CONTEXT, SYNC_CONTEXT)
    store.update_context(SYNC_CONTEXT, SYNC_CONTEXT, {"last_artifact_id": artifact_id})


def alias_moves(store: MetadataStore, model: str, alias: str | None = None) -> list[AliasMove]:
    """Every move of the model's aliases (or of one alias), in the order they were made."""
    from ml_metadata.metadata_store import metadata_store

    from pipelinekit.metadata.convert import from_value

    query = f"type = '{ALIAS_MOVE}' AND custom_properties.model.string_value = '{checked_name(model, 'model')}'"
    if alias is not None:
        query += f" AND custom_properties.alias.string_value = '{checked_name(alias, 'alias')}'"
    options = metadata_store.ListOptions(filter_query=query, order_by=metadata_store.OrderByField.ID, is_asc=True)
    executions = store.raw.get_executions(list_options=options)
    return [AliasMove.from_properties(e.id, {k: from_value(v) for k, v in e.custom_properties.items()}) for e in executions]


def record_alias_move(
    store: MetadataStore, model: str, version_number: int, pushed_model_id: int, properties: dict[str, Any]
) -> int:
    """Append one alias move; returns its execution id (larger than every earlier move's)."""
    contexts = [
        store.context(MODEL_CONTEXT, model),
        store.context(VERSION_CONTEXT, version_context_name(model, version_number)),
    ]
    [pushed] = store.artifacts_by_id([pushed_model_id])
    return store.record_execution(ALIAS_MOVE, "COMPLETE", contexts, {"version": [pushed]}, properties)
