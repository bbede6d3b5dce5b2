"""The standard artifact types, with the names and properties TFX uses."""

from __future__ import annotations

import json
import os

from pipelinekit.types.artifact import Artifact, Property

__all__ = [
    "Examples",
    "ExampleStatistics",
    "Schema",
    "ExampleAnomalies",
    "TransformGraph",
    "TransformCache",
    "Model",
    "ModelRun",
    "HyperParameters",
    "ModelEvaluation",
    "ModelBlessing",
    "InfraBlessing",
    "PushedModel",
    "InferenceResult",
]


class _SplitArtifact(Artifact):
    """An artifact with one folder per split; ``split_names`` is a JSON list as in TFX."""

    split_names = Property(str, 'JSON list of the split names, e.g. \'["train", "eval"]\'')

    @property
    def splits(self) -> list[str]:
        return json.loads(self.split_names) if self.split_names else []

    @splits.setter
    def splits(self, names: list[str]) -> None:
        self.split_names = json.dumps(list(names))


class Examples(_SplitArtifact):
    """Records of one dataset, per split, as gzipped TFRecords of tf.Example."""

    span = Property(int)
    version = Property(int)


class ExampleStatistics(_SplitArtifact):
    """Per-split dataset statistics (``Split-<name>/FeatureStats.pb``)."""

    span = Property(int)


class Schema(Artifact):
    """A tensorflow_metadata Schema, ``schema.pbtxt``."""


class ExampleAnomalies(_SplitArtifact):
    """Per-split anomalies found by validating statistics against a schema."""

    span = Property(int)


class TransformGraph(Artifact):
    """A tf.Transform output: the transform function and the transformed metadata."""


class TransformCache(Artifact):
    """Cached tf.Transform analyzer results, reusable across spans."""


class Model(Artifact):
    """A trained model; the SavedModel lives in ``Format-Serving/``."""

    @property
    def serving_model_dir(self) -> str:
        return os.path.join(self.uri, "Format-Serving")


class ModelRun(Artifact):
    """Training logs (TensorBoard) of a model run."""


class HyperParameters(Artifact):
    """Best hyperparameters found by a tuner, ``best_hyperparameters.txt``."""


class ModelEvaluation(Artifact):
    """A model analysis result (TFMA EvalResult)."""


class _Blessing(Artifact):
    """A verdict written as a ``BLESSED`` or ``NOT_BLESSED`` marker file plus the ``blessed`` property."""

    blessed = Property(int, "1 if blessed, 0 if not")

    def mark(self, blessed: bool) -> None:
        """Record the verdict as property and as the marker file TFX tools look for."""
        self.blessed = int(blessed)
        os.makedirs(self.uri, exist_ok=True)
        open(os.path.join(self.uri, "BLESSED" if blessed else "NOT_BLESSED"), "w").close()


class ModelBlessing(_Blessing):
    """Whether a model passed its evaluation thresholds."""


class InfraBlessing(_Blessing):
    """Whether a model loads and answers in a serving environment."""


class PushedModel(Artifact):
    """A model pushed to a serving base path; ``pushed_version`` is the integer version."""

    pushed = Property(int)
    pushed_version = Property(int)
    pushed_destination = Property(str)


class InferenceResult(Artifact):
    """Predictions of a model over examples (PredictionLog records)."""
