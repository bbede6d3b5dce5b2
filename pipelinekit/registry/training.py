"""What a pushed model version is, read once from its lineage in ML Metadata.

From the PushedModel artifact: the Pusher execution that wrote it, the model it pushed (directly,
or through the InfraValidator's blessing), that model's Trainer execution and the Trainer's inputs
(examples, schema, transform graph, hyperparameters), each Examples artifact followed back to the
data ExampleGen read (span, version, fingerprint), and the Evaluator's blessing and metrics.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from pipelinekit.metadata.store import ExecutionRecord, MetadataStore
from pipelinekit.registry.signatures import required_features, signature_digest
from pipelinekit.types.artifact import Artifact

__all__ = ["describe_push", "model_name_of"]


def model_name_of(pushed: Artifact) -> str:
    """The registered model a push belongs to: the name of its serving base path (what
    ``pipelinekit serve --model_base_path`` serves), e.g. ``penguin`` for ``serving/penguin/17...``."""
    destination = str(pushed.custom_properties.get("pushed_destination") or "")
    return os.path.basename(os.path.dirname(destination.rstrip("/")))


def describe_push(store: MetadataStore, pushed: Artifact) -> dict[str, Any]:
    """The version's record: every property ``models show`` prints, computed from lineage."""
    pusher = _producer(store, pushed.id)  # type: ignore[arg-type]
    pusher_inputs = store.artifacts_of_execution(pusher.id, "INPUT") if pusher else {}
    model = _pushed_model_input(store, pusher_inputs)
    trainer = _producer(store, model.id) if model is not None else None  # type: ignore[arg-type]
    trainer_inputs = store.artifacts_of_execution(trainer.id, "INPUT") if trainer else {}
    serving_path = str(pushed.custom_properties.get("pushed_destination"))
    schema = _first(trainer_inputs.get("schema"))
    transform_graph = _first(trainer_inputs.get("transform_graph"))
    examples = _training_examples(store, trainer_inputs.get("examples", []), "trainer")
    raw = [e for e in examples if e["role"] == "raw"]
    record: dict[str, Any] = {
        "version": int(str(pushed.custom_properties.get("pushed_version"))),
        "pushed_model_id": pushed.id,
        "serving_path": serving_path,
        "pushed_at": float((pusher.properties.get("finished_at") or pusher.properties.get("started_at", 0.0)) if pusher else 0.0),
        "pipeline_name": pusher.properties.get("pipeline_name", "") if pusher else "",
        "run_id": pusher.properties.get("run_id", "") if pusher else "",
        "model_id": model.id if model is not None else -1,
        "model_uri": model.uri if model is not None else "",
        "examples": examples,
        "data_fingerprint": _data_fingerprint(raw),
        "signature_digest": signature_digest(serving_path),
        "required_features": required_features(schema.uri) if schema is not None else [],
        **_blessing(store, pusher_inputs),
        **_trainer_record(store, trainer, trainer_inputs),
    }
    for key, artifact in (("schema", schema), ("transform_graph", transform_graph)):
        record[key] = {"id": artifact.id, "uri": artifact.uri} if artifact is not None else {}
    return record


def _first(artifacts: list[Artifact] | None) -> Artifact | None:
    return artifacts[0] if artifacts else None


def _producer(store: MetadataStore, artifact_id: int) -> ExecutionRecord | None:
    """The execution that first wrote the artifact (a cached rerun only reuses it)."""
    ids = sorted(execution_id for kind, execution_id in store.events_of_artifact(artifact_id) if kind == "OUTPUT")
    records = store.executions_by_id(ids) if ids else []
    complete = [r for r in sorted(records, key=lambda r: r.id) if r.state == "COMPLETE"]
    return complete[0] if complete else None


def _pushed_model_input(store: MetadataStore, inputs: dict[str, list[Artifact]]) -> Artifact | None:
    """The Model the Pusher pushed: its ``model`` input, else the model its InfraValidator checked."""
    if inputs.get("model"):
        return inputs["model"][0]
    blessing = _first(inputs.get("infra_blessing"))
    validator = _producer(store, blessing.id) if blessing is not None else None  # type: ignore[arg-type]
    return _first(store.artifacts_of_execution(validator.id, "INPUT").get("model")) if validator else None


def _training_examples(store: MetadataStore, examples: list[Artifact], read_by: str, depth: int = 0) -> list[dict[str, Any]]:
    """Each Examples artifact the Trainer read, and the ones those were made from, back to the
    raw data an ExampleGen wrote (the ones with an ``input_fingerprint``)."""
    found: list[dict[str, Any]] = []
    for artifact in examples:
        producer = _producer(store, artifact.id)  # type: ignore[arg-type]
        fingerprint = artifact.custom_properties.get("input_fingerprint")
        found.append(
            {
                "id": artifact.id,
                "uri": artifact.uri,
                "role": "raw" if fingerprint else "derived",
                "node": producer.node_id if producer else "",
                "run_id": producer.properties.get("run_id", "") if producer else "",
                "span": _int_or_none(artifact, "span"),
                "data_version": _int_or_none(artifact, "version"),
                "splits": json.loads(artifact.properties.get("split_names") or "[]"),
                "fingerprint": fingerprint or "",
                "read_by": read_by,
            }
        )
        if not fingerprint and producer is not None and depth < 8:
            parents = store.artifacts_of_execution(producer.id, "INPUT").get("examples", [])
            found += _training_examples(store, parents, producer.node_id, depth + 1)
    return found


def _int_or_none(artifact: Artifact, key: str) -> int | None:
    value = artifact.properties.get(key, artifact.custom_properties.get(key))
    return None if value is None else int(value)


def _data_fingerprint(raw: list[dict[str, Any]]) -> str:
    """One digest of the raw data a version trained on: changes when any span, version or file does."""
    parts = sorted(f"{e['node']}:{e['span']}:{e['data_version']}:{e['fingerprint']}" for e in raw)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16] if parts else ""


def _blessing(store: MetadataStore, inputs: dict[str, list[Artifact]]) -> dict[str, Any]:
    blessing = _first(inputs.get("model_blessing"))
    if blessing is None:
        return {"blessed": -1, "blessing_reason": "no Evaluator blessing was given to the Pusher", "metrics": {}}
    evaluator = _producer(store, blessing.id)  # type: ignore[arg-type]
    evaluation = _first(store.artifacts_of_execution(evaluator.id, "OUTPUT").get("evaluation")) if evaluator else None
    metrics = evaluation.custom_properties.get("metrics") if evaluation is not None else None
    return {
        "blessed": int(blessing.custom_properties.get("blessed") or 0),
        "blessing_reason": str(blessing.custom_properties.get("reason") or ""),
        "metrics": metrics or {},
    }


def _trainer_record(store: MetadataStore, trainer: ExecutionRecord | None, inputs: dict[str, list[Artifact]]) -> dict[str, Any]:
    if trainer is None:
        return {"trainer": {}, "parameters": {}, "hyperparameters": {}, "code": "", "code_modules": {}, "libraries": {}}
    parts = trainer.properties.get("cache_parts") or {}
    return {
        "trainer": {"execution_id": trainer.id, "node": trainer.node_id, "run_id": trainer.properties.get("run_id", "")},
        "parameters": trainer.properties.get("parameters") or {},
        "hyperparameters": _hyperparameters(_first(inputs.get("hyperparameters"))),
        "code": parts.get("code", ""),
        "code_modules": parts.get("code_modules", {}),
        "libraries": parts.get("libraries", {}),
    }


def _hyperparameters(artifact: Artifact | None) -> dict[str, Any]:
    """The Tuner's best hyperparameter values (``best_hyperparameters.txt``), when it gave any."""
    if artifact is None:
        return {}
    try:
        with open(os.path.join(artifact.uri, "best_hyperparameters.txt")) as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return {}
    return dict(config.get("values", config)) if isinstance(config, dict) else {}
