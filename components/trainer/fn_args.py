"""``FnArgs`` and ``DataAccessor``: what a Trainer ``run_fn`` or a Tuner ``tuner_fn`` receives.

The names and attributes are TFX's (``tfx.components.trainer.fn_args_utils``), so module files
written for TFX run with only their imports changed. The data accessor reads Examples with
tfx-bsl's TFXIO. Nothing here imports TensorFlow until a factory is called.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pipelinekit.errors import RunError
from pipelinekit.types.standard import Examples, HyperParameters, Model, Schema, TransformGraph

__all__ = ["DataAccessor", "FnArgs", "get_common_fn_args", "data_accessor_for", "read_schema"]


class DataAccessor(NamedTuple):
    """Factories over Examples files: ``tf_dataset_factory(files, TensorFlowDatasetOptions, schema)``
    gives a ``tf.data.Dataset``; ``record_batch_factory(files, RecordBatchesOptions, schema)`` gives
    Arrow RecordBatches."""

    tf_dataset_factory: Callable[..., Any]
    record_batch_factory: Callable[..., Iterator[Any]]
    data_view_decode_fn: Callable[[Any], dict[str, Any]] | None = None


@dataclass
class FnArgs:
    """Arguments of ``run_fn``/``tuner_fn``; every attribute defaults to ``None``, as in TFX."""

    working_dir: str | None = None
    train_files: list[str] | None = None
    eval_files: list[str] | None = None
    train_steps: int | None = None
    eval_steps: int | None = None
    schema_path: str | None = None
    schema_file: str | None = None
    transform_graph_path: str | None = None
    transform_output: str | None = None
    data_accessor: DataAccessor | None = None
    serving_model_dir: str | None = None
    eval_model_dir: str | None = None
    model_run_dir: str | None = None
    base_model: str | None = None
    hyperparameters: dict[str, Any] | None = None
    custom_config: dict[str, Any] | None = None


class DataAccessError(RunError):
    """Examples cannot be read as asked (no files for a split, a payload format TFXIO cannot feed)."""


def data_accessor_for(examples: Sequence[Examples]) -> DataAccessor:
    """A DataAccessor over the records of every artifact in ``examples``, through the TFXIO of
    their payload format (TFExampleRecord, TFSequenceExampleRecord or ParquetTFXIO), as TFX's
    ``tfxio_utils`` builds it; artifacts of different payload formats are refused, as in TFX."""
    from pipelinekit.components.util.examples_io import payload_format, tfxio_for

    formats = sorted({payload_format(artifact) for artifact in examples})
    if len(formats) > 1:
        raise DataAccessError(
            f"Examples at {', '.join(a.uri for a in examples)} mix payload formats {formats}; "
            "the Trainer and Tuner read one payload format at a time"
        )
    payload = formats[0] if formats else "FORMAT_TF_EXAMPLE"

    def read(file_pattern: str | list[str], schema: Any, method: str, options: Any) -> Any:
        reader = tfxio_for(file_pattern, payload, schema, "Trainer")
        if payload == "FORMAT_TF_SEQUENCE_EXAMPLE" and schema is not None and not schema.tensor_representation_group:
            reader = tfxio_for(file_pattern, payload, _with_representations(schema, reader.TensorRepresentations()), "Trainer")
        try:
            return getattr(reader, method)(options)
        except NotImplementedError as error:  # what tfx-bsl's reader lacks, TFX lacks too
            raise DataAccessError(
                f"the data accessor cannot read the {payload} examples at {', '.join(a.uri for a in examples)} as "
                f"{method}: tfx-bsl's {type(reader).__name__} does not implement {method} (TFX fails here too). "
                "Use a factory that reader implements, or train on Transform's transformed_examples (tf.Examples)"
            ) from error

    def tf_dataset_factory(file_pattern: str | list[str], options: Any, schema: Any = None) -> Any:
        return read(file_pattern, schema, "TensorFlowDataset", options)

    def record_batch_factory(file_pattern: str | list[str], options: Any, schema: Any = None) -> Iterator[Any]:
        return read(file_pattern, schema, "RecordBatches", options)

    return DataAccessor(tf_dataset_factory, record_batch_factory, None)


def _with_representations(schema: Any, representations: Any) -> Any:
    """A copy of ``schema`` holding ``representations`` (tfx-bsl's inferred ones): parsing
    SequenceExamples needs them, and SchemaGen writes none, so TFX fails there ("TensorRepresentations
    are required"); inferred, each feature list is a RaggedTensor ``##SEQUENCE##.<name>``, as in Transform."""
    from tfx_bsl.tfxio import tensor_representation_util

    copy = type(schema)()
    copy.CopyFrom(schema)
    tensor_representation_util.SetTensorRepresentationsInSchema(copy, representations)
    return copy


def split_patterns(examples: Sequence[Examples], splits: list[str], argument: str) -> list[str]:
    """``<uri>/Split-<s>/*`` for each split and, within it, each Examples artifact (TFX's order),
    checking that each holds files."""
    patterns = []
    for split in splits:
        for artifact in examples:
            pattern = os.path.join(artifact.split_uri(split), "*")
            if not glob.glob(pattern):
                known = ", ".join(artifact.splits) or "none recorded"
                raise DataAccessError(
                    f"{argument} names split {split!r}, but Examples at {artifact.uri} have no files in Split-{split}/ "
                    f"(its splits: {known}); set {argument}.splits to existing splits"
                )
            patterns.append(pattern)
    return patterns


def only_file_in(folder: str, what: str) -> str:
    """The single file in ``folder`` (a schema or hyperparameters artifact), as TFX requires."""
    files = sorted(f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f))) if os.path.isdir(folder) else []
    if len(files) != 1:
        raise DataAccessError(f"the {what} artifact at {folder} must hold exactly one file; it holds {files or 'none'}")
    return os.path.join(folder, files[0])


def read_schema(schema: Schema | None) -> Any:
    """The tensorflow_metadata Schema of a Schema artifact (``schema.pbtxt``), or None."""
    if schema is None:
        return None
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    path = only_file_in(schema.uri, "schema")
    with open(path) as handle:
        return text_format.Parse(handle.read(), schema_pb2.Schema())


def get_common_fn_args(
    examples: Sequence[Examples],
    train_args: Any,
    eval_args: Any,
    *,
    schema: Schema | None = None,
    transform_graph: TransformGraph | None = None,
    base_model: Model | None = None,
    hyperparameters: HyperParameters | None = None,
    custom_config: dict[str, Any] | None = None,
    working_dir: str | None = None,
) -> FnArgs:
    """The FnArgs fields the Trainer and the Tuner share (TFX's ``get_common_fn_args``).

    ``examples`` are all the Examples artifacts given (a span window gives several); the file
    lists gather every one. ``train_args``/``eval_args`` are ``TrainArgs``/``EvalArgs`` protos;
    splits default to ``train`` and ``eval`` and a step count of 0 becomes ``None``.
    """
    schema_path = only_file_in(schema.uri, "schema") if schema is not None else None
    hyper = None
    if hyperparameters is not None:
        with open(only_file_in(hyperparameters.uri, "hyperparameters")) as handle:
            hyper = json.load(handle)
    return FnArgs(
        working_dir=working_dir,
        train_files=split_patterns(examples, list(train_args.splits) or ["train"], "train_args"),
        eval_files=split_patterns(examples, list(eval_args.splits) or ["eval"], "eval_args"),
        train_steps=train_args.num_steps or None,
        eval_steps=eval_args.num_steps or None,
        schema_path=schema_path,
        transform_graph_path=transform_graph.uri if transform_graph is not None else None,
        data_accessor=data_accessor_for(examples),
        base_model=base_model.serving_model_dir if base_model is not None else None,
        hyperparameters=hyper,
        custom_config=custom_config,
    )
