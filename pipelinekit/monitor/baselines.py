"""A served version's baseline found through its lineage in ML Metadata, for versions the policy
file gives none: the registry's record of the pushed version names the model and the Trainer's
examples; from there, the train-split statistics StatisticsGen computed on the raw examples, the
schema the Trainer used (else SchemaGen's of those statistics), and the Evaluator's statistics
of that model's predictions on eval data.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from pipelinekit.components.util.prediction_features import PREDICTION_STATISTICS_DIR
from pipelinekit.components.util.tfdv_io import STATS_FILE, schema_file
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.monitor.config import Baseline
from pipelinekit.types.artifact import Artifact

__all__ = ["TRAIN_SPLIT", "lineage_baseline"]

logger = logging.getLogger(__name__)

TRAIN_SPLIT = "train"


class _Missing(Exception):
    """What a version's lineage lacks (the message names it)."""


def lineage_baseline(store: MetadataStore, store_path: str, version: str, policy_file: str) -> Baseline | None:
    """The baseline of ``version`` (``<served model>/<pushed version>``) from the store's lineage, or
    None after a warning that names the version, what its lineage lacks and how to give it by hand.
    Without the Evaluator's prediction statistics the baseline has no ``predictions`` (warned)."""
    try:
        record = _version_record(store, version)
        statistics = _train_statistics(store, record)
        schema = _schema(store, record, statistics)
    except _Missing as missing:
        logger.warning(
            "no baseline for %s: %s gives none and its lineage in ML Metadata store %s lacks %s; give one by hand "
            "under baselines: {'%s': {statistics: <StatisticsGen output>/Split-train/%s, schema: <schema.pbtxt>, "
            "predictions: <Evaluator evaluation>/%s/%s}}; the version is only counted",
            version, policy_file, store_path, missing, version, STATS_FILE, PREDICTION_STATISTICS_DIR, STATS_FILE,
        )  # fmt: skip
        return None
    predictions = _prediction_statistics(store, record)
    if predictions is None:
        logger.warning(
            "%s: its lineage in ML Metadata store %s has no Evaluator statistics of model %s's predictions (an "
            "Evaluator of this model writes <evaluation>/%s/%s); prediction drift is not measured. Give it by hand "
            "as baselines.'%s'.predictions in %s",
            version, store_path, record["model_uri"] or record["model_id"], PREDICTION_STATISTICS_DIR, STATS_FILE,
            version, policy_file,
        )  # fmt: skip
    return Baseline(os.path.join(statistics.split_uri(TRAIN_SPLIT), STATS_FILE), schema, predictions, origin="lineage")


def _version_record(store: MetadataStore, version: str) -> dict[str, Any]:
    """The registry's record of the pushed version, preferring the registered model named as served."""
    from pipelinekit.registry.records import version_contexts
    from pipelinekit.registry.registry import Registry

    served, _, number = version.rpartition("/")
    if not number.isdigit():
        raise _Missing(f"a pushed model version (the served version {number!r} is not a pushed version number)")
    Registry(store).sync()
    found = [record for _, record in version_contexts(store, number=int(number))]
    if not found:
        raise _Missing(f"a pushed model with pushed_version {number} (was it pushed by a Pusher of this pipeline?)")
    return next((r for r in found if r.get("model") == served), found[-1])


def _train_statistics(store: MetadataStore, record: dict[str, Any]) -> Artifact:
    """StatisticsGen's statistics with a train split, of the raw examples first (what is served is
    raw), then of the Trainer's own examples; the newest where several were computed."""
    examples = sorted(record.get("examples", []), key=lambda e: e["role"] != "raw")
    if not examples:
        raise _Missing(f"the Trainer's examples (model {record.get('model_uri') or record.get('model_id')})")
    for entry in examples:
        found = [
            artifact
            for artifact in _outputs_of_readers(store, int(entry["id"]), "examples", "statistics")
            if os.path.isfile(os.path.join(artifact.split_uri(TRAIN_SPLIT), STATS_FILE))
        ]
        if found:
            return max(found, key=lambda a: a.id or 0)
    uris = ", ".join(e["uri"] for e in examples)
    raise _Missing(f"StatisticsGen statistics with a {TRAIN_SPLIT!r} split of the Trainer's examples ({uris})")


def _schema(store: MetadataStore, record: dict[str, Any], statistics: Artifact) -> str:
    """The schema file the Trainer used (SchemaGen's or a curated one), else SchemaGen's of the statistics."""
    used = record.get("schema") or {}
    if used.get("uri"):
        return schema_file(str(used["uri"]))
    inferred = _outputs_of_readers(store, statistics.id, "statistics", "schema")  # type: ignore[arg-type]
    if not inferred:
        raise _Missing(f"a schema (the Trainer had none, and no SchemaGen read statistics {statistics.uri})")
    return schema_file(max(inferred, key=lambda a: a.id or 0).uri)


def _prediction_statistics(store: MetadataStore, record: dict[str, Any]) -> str | None:
    """The newest Evaluator statistics of the pushed model's predictions (as candidate, not baseline)."""
    model_id = int(record.get("model_id", -1))
    if model_id < 0:
        return None
    evaluations = _outputs_of_readers(store, model_id, "model", "evaluation")
    paths = [os.path.join(e.uri, PREDICTION_STATISTICS_DIR, STATS_FILE) for e in sorted(evaluations, key=lambda a: -(a.id or 0))]
    return next((p for p in paths if os.path.isfile(p)), None)


def _outputs_of_readers(store: MetadataStore, artifact_id: int, input_key: str, output_key: str) -> list[Artifact]:
    """The ``output_key`` artifacts of the complete executions that read the artifact as ``input_key``."""
    events = store.events(artifact_ids=[artifact_id])
    readers = sorted({e.execution_id for e in events if e.direction == "INPUT" and e.key == input_key})
    complete = [r.id for r in store.executions_by_id(readers) if r.state in ("COMPLETE", "CACHED")] if readers else []
    found: dict[int, Artifact] = {}
    for execution_id in complete:
        for artifact in store.artifacts_of_execution(execution_id, "OUTPUT").get(output_key, []):
            found[artifact.id] = artifact  # type: ignore[index]
    return list(found.values())
