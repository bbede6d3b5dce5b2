"""The standard artifact types, with TFX's MLMD type names, properties and custom properties.

TFX declares only ``span``, ``version`` and ``split_names`` as typed properties; verdicts and
push results (``blessed``, ``pushed``, ``pushed_version``, ...) are *custom* properties, which
is where TFX's strategies and ``Cond`` predicates read them, so they are kept there too.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, ClassVar, Generic, TypeVar

from pipelinekit.types.artifact import Artifact, Property

__all__ = [
    "Examples",
    "ExampleStatistics",
    "Schema",
    "ExampleAnomalies",
    "ExamplesDiff",
    "TransformGraph",
    "TransformCache",
    "Model",
    "ModelRun",
    "HyperParameters",
    "TunerResults",
    "ModelEvaluation",
    "ModelBlessing",
    "InfraBlessing",
    "PushedModel",
    "InferenceResult",
    "ValueArtifact",
    "String",
    "Integer",
    "Float",
    "Bytes",
    "Boolean",
    "JsonValue",
    "CustomProperty",
]

T = TypeVar("T")


class CustomProperty(Generic[T]):
    """An attribute stored as an MLMD *custom* property, the way TFX records it.

    Reading an unset one gives ``None``; writing checks the type (an int is not a bool).
    """

    def __init__(self, value_type: type[T], doc: str = "") -> None:
        self.value_type = value_type
        self.doc = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Artifact | None, owner: type) -> Any:
        if instance is None:
            return self
        return instance.custom_properties.get(self.name)

    def __set__(self, instance: Artifact, value: T) -> None:
        if not isinstance(value, self.value_type) or (self.value_type is int and isinstance(value, bool)):
            raise TypeError(
                f"{instance.TYPE_NAME}.{self.name} takes {self.value_type.__name__}, got {type(value).__name__} {value!r}"
            )
        instance.set_custom_property(self.name, value)


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
    """Records of one dataset, per split, as gzipped TFRecords of tf.Example.

    ExampleGen also records ``span``, ``version`` and ``input_fingerprint`` as custom
    properties (what TFX's resolver strategies read), and ``payload_format`` /
    ``file_format`` (``'FORMAT_TF_EXAMPLE'``, ``'tfrecords_gzip'``).
    """

    span = Property(int)
    version = Property(int)


class ExampleStatistics(_SplitArtifact):
    """Per-split dataset statistics (``Split-<name>/FeatureStats.pb``)."""

    span = Property(int)


class Schema(Artifact):
    """A tensorflow_metadata Schema, ``schema.pbtxt``."""


class ExampleAnomalies(_SplitArtifact):
    """Per-split anomalies (``Split-<name>/SchemaDiff.pb``; DistributionValidator's are per split
    pair, ``SplitPair-<current>_<baseline>/``); custom property ``blessed`` is a dict
    ``{split: 0 or 1}`` as TFX writes it."""

    span = Property(int)


class ExamplesDiff(Artifact):
    """Differences between two Examples artifacts (ExampleDiff's output)."""


class TransformGraph(Artifact):
    """A tf.Transform output: ``transform_fn/``, ``transformed_metadata/`` and ``metadata/``."""


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


class TunerResults(Artifact):
    """The tuner's completed trials with their scores and values, ``tuner_results.json``."""


class ModelEvaluation(Artifact):
    """A model analysis result (TFMA EvalResult)."""


class _Blessing(Artifact):
    """A verdict written as a marker file plus the custom property ``blessed`` (1 or 0)."""

    BLESSED_FILE: ClassVar[str] = "BLESSED"
    NOT_BLESSED_FILE: ClassVar[str] = "NOT_BLESSED"
    blessed = CustomProperty(int, "1 if blessed, 0 if not; unset when nothing was validated")

    def mark(self, blessed: bool) -> None:
        """Record the verdict as custom property and as the marker file TFX tools look for."""
        self.blessed = int(blessed)
        os.makedirs(self.uri, exist_ok=True)
        open(os.path.join(self.uri, self.BLESSED_FILE if blessed else self.NOT_BLESSED_FILE), "w").close()


class ModelBlessing(_Blessing):
    """Whether a model passed its evaluation thresholds; the Evaluator also sets
    ``current_model``, ``current_model_id``, ``baseline_model`` and ``baseline_model_id``."""

    current_model = CustomProperty(str)
    current_model_id = CustomProperty(int)
    baseline_model = CustomProperty(str)
    baseline_model_id = CustomProperty(int)


class InfraBlessing(_Blessing):
    """Whether a model loads and answers in a serving environment (``INFRA_BLESSED`` or
    ``INFRA_NOT_BLESSED``); ``has_model`` is 1 when a warmed-up copy was written."""

    BLESSED_FILE = "INFRA_BLESSED"
    NOT_BLESSED_FILE = "INFRA_NOT_BLESSED"
    has_model = CustomProperty(int)


class PushedModel(Artifact):
    """A model pushed to a serving base path; ``pushed_version`` is the version folder name
    (unix seconds) as a string, as TFX records it."""

    pushed = CustomProperty(int)
    pushed_version = CustomProperty(str)
    pushed_destination = CustomProperty(str)


class InferenceResult(Artifact):
    """Predictions of a model over examples (PredictionLog records)."""


NULL_MARK = "__is_null__"
"""TFX's custom property marking a value artifact whose value is ``None``."""


class ValueArtifact(Artifact):
    """A small value kept in the file ``<uri>/value``; read and write it with ``.value``.

    Unlike TFX (whose URI is the file itself) the URI stays a folder, like every other
    artifact, so publishing, fingerprints and the cache treat it the same way.
    """

    VALUE_FILE: ClassVar[str] = "value"

    @property
    def value_path(self) -> str:
        return os.path.join(self.uri, self.VALUE_FILE)

    @property
    def value(self) -> Any:
        """The decoded value (``None`` when ``None`` was written, marked as TFX marks it: an empty
        file and the custom property ``__is_null__`` = 1); raises FileNotFoundError (naming the
        file) if none was written."""
        with open(self.value_path, "rb") as handle:
            data = handle.read()
        return None if self.custom_properties.get(NULL_MARK) == 1 else self.decode(data)

    @value.setter
    def value(self, value: Any) -> None:
        data = b"" if value is None else self.encode(value)
        self.set_custom_property(NULL_MARK, int(value is None))
        os.makedirs(self.uri, exist_ok=True)
        with open(self.value_path, "wb") as handle:
            handle.write(data)

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError

    def _check(self, value: Any, *types: type) -> None:
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            names = " or ".join(t.__name__ for t in types)
            raise TypeError(f"{self.TYPE_NAME}.value takes {names}, got {type(value).__name__} {value!r}")


class String(ValueArtifact):
    """A str value, stored as UTF-8."""

    def encode(self, value: Any) -> bytes:
        self._check(value, str)
        return value.encode("utf-8")

    def decode(self, data: bytes) -> str:
        return data.decode("utf-8")


class Integer(ValueArtifact):
    """An int value, stored as its decimal digits."""

    def encode(self, value: Any) -> bytes:
        self._check(value, int)
        return str(value).encode()

    def decode(self, data: bytes) -> int:
        return int(data)


class Float(ValueArtifact):
    """A float value, stored as TFX stores it: its shortest repr, with ``Infinity``,
    ``-Infinity`` and ``NaN`` for the values other languages spell that way."""

    def encode(self, value: Any) -> bytes:
        self._check(value, float, int)
        number = float(value)
        if math.isnan(number):
            return b"NaN"
        if math.isinf(number):
            return b"Infinity" if number > 0 else b"-Infinity"
        return repr(number).encode()

    def decode(self, data: bytes) -> float:
        return float(data)


class Bytes(ValueArtifact):
    """A bytes value, stored as is."""

    def encode(self, value: Any) -> bytes:
        self._check(value, bytes)
        return bytes(value)

    def decode(self, data: bytes) -> bytes:
        return data


class Boolean(ValueArtifact):
    """A bool value, stored as ``1`` or ``0``."""

    def encode(self, value: Any) -> bytes:
        self._check(value, bool)
        return b"1" if value else b"0"

    def decode(self, data: bytes) -> bool:
        return int(data) != 0


class JsonValue(ValueArtifact):
    """Any JSON-able value (dict, list, str, number, bool, None), stored as JSON."""

    def encode(self, value: Any) -> bytes:
        try:
            return json.dumps(value, sort_keys=True).encode()
        except TypeError as error:
            raise TypeError(f"JsonValue.value must be JSON-able: {error}") from error

    def decode(self, data: bytes) -> Any:
        return json.loads(data)
