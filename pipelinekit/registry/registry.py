"""The model registry: versions, semantic versions, aliases and their history, on ML Metadata.

Every pushed model version (a LIVE PushedModel artifact with ``pushed=1``) is registered the
first time the registry is read after the push; see :mod:`pipelinekit.registry.records` for how
versions and alias moves are stored.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import socket
import time
from dataclasses import dataclass
from typing import Any

from pipelinekit.dsl.metadata_config import MetadataConfig, sqlite_metadata
from pipelinekit.errors import MetadataError, RegistryError
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.registry.records import (
    VERSION_CONTEXT,
    AliasMove,
    alias_moves,
    checked_name,
    record_alias_move,
    set_sync_mark,
    sync_mark,
    version_context_name,
    version_contexts,
)
from pipelinekit.registry.semver import SEMVER, next_semver
from pipelinekit.registry.signatures import version_files_present
from pipelinekit.registry.training import describe_push, model_name_of

__all__ = ["ModelVersion", "Registry", "PRODUCTION"]

logger = logging.getLogger(__name__)

PRODUCTION = "production"
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_WRITE_ATTEMPTS = 8


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: ``number`` is the pushed version folder, ``semver`` its semantic version."""

    model: str
    number: int
    semver: str
    record: dict[str, Any]

    @property
    def serving_path(self) -> str:
        return str(self.record.get("serving_path", ""))

    @property
    def files_present(self) -> bool:
        return version_files_present(self.serving_path)

    @property
    def raw_examples(self) -> list[dict[str, Any]]:
        """The data ExampleGen read for this version: one entry per span it trained on."""
        return [e for e in self.record.get("examples", []) if e.get("role") == "raw"]

    def __str__(self) -> str:
        return f"{self.model}@{self.number} ({self.semver})"


class Registry:
    """The registry in the ML Metadata store ``store`` (or the SQLite file ``path``)."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    @classmethod
    def open(cls, config: MetadataConfig | str) -> Registry:
        """The registry of a pipeline's store: its MetadataConfig, or an existing metadata.sqlite path."""
        if isinstance(config, str):
            if not os.path.isfile(config):
                raise RegistryError(f"metadata store {config} does not exist; give the metadata.sqlite a pipeline wrote")
            config = sqlite_metadata(os.path.abspath(config))
        return cls(MetadataStore(config))

    @classmethod
    def open_new(cls, path: str) -> Registry:
        """The registry in the SQLite store at ``path``, created if missing."""
        return cls(MetadataStore(sqlite_metadata(os.path.abspath(path))))

    # Versions -----------------------------------------------------------------------------------

    def sync(self) -> list[ModelVersion]:
        """Register every push not registered yet (oldest first); returns the new versions.

        Only PushedModels newer than the sync mark are read (an artifact gets its id when it is
        published, so later pushes have larger ids); a mark left behind by a racing process only
        makes the next sync look at a few pushes again, which are then found registered."""
        from ml_metadata.metadata_store import metadata_store

        from pipelinekit.metadata.convert import artifact_from_proto

        mark = sync_mark(self.store)
        query = f"type = 'PushedModel' AND state = LIVE AND custom_properties.pushed.int_value = 1 AND id > {mark}"
        options = metadata_store.ListOptions(filter_query=query, order_by=metadata_store.OrderByField.ID, is_asc=True)
        new: dict[str, Any] = {}
        newest = mark
        for proto in self.store.raw.get_artifacts(list_options=options):
            newest = max(newest, proto.id)
            pushed = artifact_from_proto(proto, "PushedModel")
            model, number = model_name_of(pushed), str(pushed.custom_properties.get("pushed_version", ""))
            name = version_context_name(model, int(number)) if number.isdigit() and model else ""
            if name and name not in new and self.store.raw.get_context_by_type_and_name(VERSION_CONTEXT, name) is None:
                new[name] = (model, pushed)
        added: list[ModelVersion] = []
        registered_records: dict[str, list[dict[str, Any]]] = {}
        for model, pushed in sorted(new.values(), key=lambda pair: int(pair[1].custom_properties["pushed_version"])):
            if model not in registered_records:
                registered_records[model] = [p for _, p in version_contexts(self.store, model)]
            added.append(self._register(model, pushed, registered_records[model]))
        if newest > mark:
            set_sync_mark(self.store, newest)
        return added

    def _register(self, model: str, pushed: Any, registered: list[dict[str, Any]]) -> ModelVersion:
        """Register one push; ``registered`` (the model's versions, by number) gains its record."""
        record = describe_push(self.store, pushed)
        earlier = [p for p in registered if int(p["version"]) < record["version"]]
        semver, reason = next_semver(earlier[-1] if earlier else None, record)
        record |= {"model": model, "semver": semver, "semver_reason": reason, "registered_at": time.time()}
        context = self.store.context(VERSION_CONTEXT, version_context_name(model, record["version"]), record)
        logger.info("registered %s@%s as %s (%s)", model, record["version"], semver, reason)
        version = self._version(model, context)
        registered.append(version.record)
        registered.sort(key=lambda p: int(p["version"]))
        return version

    def _version(self, model: str, context: Any) -> ModelVersion:
        from pipelinekit.metadata.convert import from_value

        record = {k: from_value(v) for k, v in context.custom_properties.items()}
        return ModelVersion(model, int(record["version"]), str(record["semver"]), record)

    def models(self) -> list[str]:
        """Names of the registered models."""
        self.sync()
        return sorted({p["model"] for _, p in version_contexts(self.store)})

    def versions(self, model: str) -> list[ModelVersion]:
        """The model's versions, oldest first; a RegistryError naming the model if it has none."""
        self.sync()
        found = [ModelVersion(model, int(p["version"]), str(p["semver"]), p) for _, p in version_contexts(self.store, model)]
        if not found:
            raise self._unknown_model(model)
        return found

    def _unknown_model(self, model: str) -> RegistryError:
        known = self.models()
        return RegistryError(f"unknown model {model!r}; registered models: {', '.join(known) or 'none (push a model first)'}")

    def version(self, model: str, ref: str | int | None = None) -> ModelVersion:
        """A version by pushed number (``1712345678``), semantic version (``1.3.0``) or alias
        (``production``); the newest without ``ref``. Reads only that version's record."""
        if ref is None or ref == "":
            return self.versions(model)[-1]
        self.sync()
        text = str(ref)
        if text.isdigit():
            found = version_contexts(self.store, model, number=int(text))
        elif SEMVER.match(text):
            found = version_contexts(self.store, model, semver=text)
        else:
            move = self.aliases(model).get(checked_name(text, "alias"))
            if move is None:
                if not version_contexts(self.store, model, limit=1):
                    raise self._unknown_model(model)
                raise RegistryError(
                    f"model {model!r} has no alias {text!r}; its aliases: {', '.join(sorted(self.aliases(model))) or 'none'}. "
                    f"Set one with: pipelinekit models alias {model} {text} VERSION --reason TEXT"
                )
            found = version_contexts(self.store, model, number=move.version)
        if not found:
            versions = self.versions(model)  # an unknown model is named as such
            listing = ", ".join(f"{v.number} ({v.semver})" for v in versions[-10:])
            raise RegistryError(f"model {model!r} has no version {text!r}; its latest versions: {listing}")
        properties = found[-1][1]
        return ModelVersion(model, int(properties["version"]), str(properties["semver"]), properties)

    def resolve(self, reference: str) -> ModelVersion:
        """``MODEL[@VERSION|@SEMVER|@ALIAS]`` as users write it, e.g. ``penguin@production``."""
        model, _, ref = reference.partition("@")
        return self.version(checked_name(model, "model"), ref or None)

    # Aliases ------------------------------------------------------------------------------------

    def aliases(self, model: str) -> dict[str, AliasMove]:
        """Each alias of the model and the move that set it (the last one made)."""
        current: dict[str, AliasMove] = {}
        for move in alias_moves(self.store, model):
            current[move.alias] = move
        return current

    def history(self, model: str, alias: str | None = None, at: float | None = None) -> list[AliasMove]:
        """Every alias move of the model (of one alias), oldest first; with ``at``, those made by then."""
        self.sync()
        if not version_contexts(self.store, model, limit=1):
            raise self._unknown_model(model)  # an unknown model is an error, not an empty history
        moves = alias_moves(self.store, model, alias)
        return [m for m in moves if at is None or m.at <= at]

    def aliases_at(self, model: str, at: float) -> dict[str, AliasMove]:
        """Which version each alias named at the moment ``at`` (unix seconds)."""
        state: dict[str, AliasMove] = {}
        for move in self.history(model, at=at):
            state[move.alias] = move
        return state

    def move_alias(
        self, model: str, alias: str, ref: str | int, reason: str, command: str = "alias", who: str | None = None
    ) -> AliasMove:
        """Point ``alias`` at a version and append the move to the history. Refuses, changing
        nothing, an unknown model or version, a bad alias name, and a version whose files are gone.
        ``who`` is recorded as the mover (default: this process's user and host)."""
        if not _ALIAS.match(alias) or SEMVER.match(alias):
            raise RegistryError(
                f"alias {alias!r} is not a valid name: start with a letter, then letters, digits, '_', '-' or '.' "
                "(a number or x.y.z would read as a version)"
            )
        if not reason.strip():
            raise RegistryError(f"moving alias {alias!r} of model {model!r} needs a reason (--reason TEXT)")
        target = self.version(model, ref)
        if not target.files_present:
            raise RegistryError(
                f"{target} cannot be made {alias!r}: its files are gone from {target.serving_path} "
                "(no saved_model.pb); push it again or choose another version"
            )
        previous = self.aliases(model).get(alias)
        properties = {
            "model": model,
            "alias": alias,
            "version": target.number,
            "semver": target.semver,
            "from_version": previous.version if previous else -1,
            "who": who or f"{getpass.getuser()}@{socket.gethostname()}",
            "pid": os.getpid(),
            "at": time.time(),
            "reason": reason,
            "command": command,
        }
        move_id = self._append(model, target, properties)
        logger.info("model %r: %s -> version %d (%s)", model, alias, target.number, reason)
        return AliasMove.from_properties(move_id, properties)

    def _append(self, model: str, target: ModelVersion, properties: dict[str, Any]) -> int:
        """Write the move; SQLite can refuse a write while another process holds its lock: retry."""
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                return record_alias_move(self.store, model, target.number, int(target.record["pushed_model_id"]), properties)
            except MetadataError:
                if attempt == _WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")

    def previous_production(self, model: str) -> ModelVersion:
        """The version production named before its current one: the rollback target."""
        moves = alias_moves(self.store, model, PRODUCTION)
        if not moves:
            raise RegistryError(f"model {model!r} has no {PRODUCTION!r} alias to roll back; set it with pipelinekit models alias")
        current = moves[-1].version
        earlier = [m for m in moves[:-1] if m.version != current]
        if not earlier:
            raise RegistryError(
                f"model {model!r}: {PRODUCTION!r} has named only version {current}; there is nothing to roll back to. "
                "Name a version with --to VERSION"
            )
        return self.version(model, earlier[-1].version)

    def rollback(self, model: str, to: str | int | None = None, reason: str = "") -> tuple[AliasMove, ModelVersion]:
        """Move ``production`` back to ``to`` (default: the version it named before)."""
        target = self.version(model, to) if to not in (None, "") else self.previous_production(model)
        current = self.aliases(model).get(PRODUCTION)
        why = reason or f"rollback from version {current.version if current else '?'}"
        return self.move_alias(model, PRODUCTION, target.number, why, command="rollback"), target
