"""What the monitor did, in ML Metadata: windows, actions and feedback spans, in a ``ModelMonitor``
context named after the model.

A window's statistics and anomalies are outputs of a ``MonitorWindow`` execution whose inputs are
the baseline it was compared with (training statistics, schema and, when there is one, the
Evaluator's ``evaluation`` holding the statistics of the model's predictions, as
``baseline_predictions``; property ``baseline_origin`` says whether the policy file or the
lineage gave it) and, when the store holds it, the PushedModel of that version (the Pusher's
``pushed_version``): the lineage from a served version to what it saw.
Each execution carries a ``window_key``; one already recorded is not recorded again (a monitor
killed after recording and before its checkpoint does not record twice).
"""

from __future__ import annotations

import json
from typing import Any

from pipelinekit.dsl.metadata_config import sqlite_metadata
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.types.artifact import Artifact
from pipelinekit.types.standard import ExampleAnomalies, Examples, ExampleStatistics, ModelEvaluation, PushedModel, Schema

__all__ = ["CONTEXT_TYPE", "MonitorRecorder"]

CONTEXT_TYPE = "ModelMonitor"
MONITOR = "monitor"  # who the monitor's actions are recorded as done by


class MonitorRecorder:
    """Records into the SQLite ML Metadata store at ``path`` (a pipeline's store, to share its lineage)."""

    def __init__(self, path: str, model: str) -> None:
        self.store = MetadataStore(sqlite_metadata(path))
        self.model = model
        self._context = self.store.context(CONTEXT_TYPE, model)

    def recorded(self, window_key: str) -> bool:
        return any(
            e.properties.get("window_key") == window_key
            for e in self.store.executions_in_context(CONTEXT_TYPE, self.model, limit=500)
        )

    def executions(self, type_name: str) -> list[Any]:
        return [e for e in self.store.executions_in_context(CONTEXT_TYPE, self.model, limit=500) if e.type_name == type_name]

    def window(
        self,
        window_key: str,
        version: str,
        baseline_statistics: str,
        schema: str,
        statistics_uri: str,
        anomalies_uri: str,
        properties: dict[str, Any],
        baseline_predictions: str | None = None,
    ) -> None:
        inputs: dict[str, list[Artifact]] = {
            "baseline_statistics": [self._existing(ExampleStatistics, baseline_statistics)],
            "schema": [self._existing(Schema, schema)],
        }
        if baseline_predictions:  # the Evaluator's evaluation that holds them, when it is in this store
            inputs["baseline_predictions"] = [self._existing(ExampleStatistics, baseline_predictions, ModelEvaluation)]
        pushed = self._pushed_model(version)
        if pushed is not None:
            inputs["pushed_model"] = [pushed]
        statistics = ExampleStatistics(statistics_uri)
        statistics.splits = ["served", "predictions"]
        anomalies = ExampleAnomalies(anomalies_uri)
        anomalies.splits = ["served", "skew"]
        anomalies.set_custom_property("model_version", version)
        self._record("MonitorWindow", window_key, inputs, {"statistics": [statistics], "anomalies": [anomalies]},
                     {"version": version, **properties})  # fmt: skip

    def action(self, window_key: str, properties: dict[str, Any]) -> None:
        self._record("MonitorAction", window_key, {}, {}, {"who": MONITOR, **properties})

    def feedback(self, window_key: str, examples: Examples, versions: list[str], label_files: list[str]) -> None:
        pushed = [p for p in (self._pushed_model(v) for v in versions) if p is not None]
        properties = {"versions": json.dumps(versions), "label_files": json.dumps(label_files), "span": examples.span}
        self._record("FeedbackSpan", window_key, {"pushed_model": pushed} if pushed else {}, {"examples": [examples]}, properties)

    def _record(
        self,
        type_name: str,
        key: str,
        inputs: dict[str, list[Artifact]],
        outputs: dict[str, list[Artifact]],
        properties: dict[str, Any],
    ) -> None:
        execution = self.store.register_execution(type_name, [self._context], inputs, {"window_key": key, **properties})
        self.store.publish_execution(execution, [self._context], outputs, {})

    def _existing(self, artifact_class: type[Artifact], uri: str, container: type[Artifact] | None = None) -> Artifact:
        """The stored artifact at ``uri`` (the pipeline's, if this is its store), or the ``container``
        whose sub-folder holds the file, else a new ``artifact_class`` there."""
        import os

        from pipelinekit.metadata.convert import artifact_from_proto

        wanted: dict[str, tuple[str, ...]] = {artifact_class.TYPE_NAME: (uri, _folder_of(uri))}
        if container is not None:
            wanted[container.TYPE_NAME] = (os.path.dirname(os.path.dirname(uri)),)
        for type_name, candidates in wanted.items():
            for candidate in candidates:
                for proto in self.store.raw.get_artifacts_by_uri(candidate):
                    [found_type] = self.store.raw.get_artifact_types_by_id([proto.type_id])
                    if found_type.name == type_name:
                        return artifact_from_proto(proto, found_type.name)
        artifact = artifact_class(uri)
        artifact.state = "LIVE"
        return artifact

    def _pushed_model(self, version: str) -> Artifact | None:
        """The newest PushedModel whose ``pushed_version`` is this version's number, if any."""
        from pipelinekit.metadata.convert import artifact_from_proto

        number = version.rsplit("/", 1)[-1]
        if not number.isdigit():
            return None
        found = [p for p in self.store.raw.get_artifacts_by_type(PushedModel.TYPE_NAME)
                 if p.custom_properties["pushed_version"].string_value == number]  # fmt: skip
        return artifact_from_proto(max(found, key=lambda p: p.id), PushedModel.TYPE_NAME) if found else None


def _folder_of(path: str) -> str:
    """The artifact folder of a file in it (``<uri>/Split-train/FeatureStats.pb`` -> ``<uri>``)."""
    import os

    folder = os.path.dirname(path)
    return os.path.dirname(folder) if os.path.basename(folder).startswith("Split-") else folder
