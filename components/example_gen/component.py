"""CsvExampleGen and ImportExampleGen with TFX's constructor arguments and output ``examples``."""

from __future__ import annotations

from pipelinekit.components.util.arguments import given, proto_argument
from pipelinekit.components.util.errors import ComponentArgumentError

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.spec import OutputSpec, ParameterSpec
from pipelinekit.proto import example_gen_pb2, range_config_pb2
from pipelinekit.types.annotations import ExternalPath
from pipelinekit.types.standard import Examples

__all__ = ["CsvExampleGen", "ImportExampleGen"]


class _FileBasedExampleGen(Component):
    """Reads files under ``input_base`` into Examples; the files' content is in the cache key."""

    EXECUTOR = "pipelinekit.components.example_gen.executor:run_csv_example_gen"
    examples = OutputSpec(Examples)
    input_base = ParameterSpec(ExternalPath)
    input_config = ParameterSpec(str, default=None)
    output_config = ParameterSpec(str, default=None)
    range_config = ParameterSpec(str, default=None)
    output_data_format = ParameterSpec(int, default=example_gen_pb2.FORMAT_TF_EXAMPLE)
    output_file_format = ParameterSpec(int, default=example_gen_pb2.FORMAT_TFRECORDS_GZIP)

    def __init__(
        self,
        input_base: str | None = None,
        input_config: example_gen_pb2.Input | None = None,
        output_config: example_gen_pb2.Output | None = None,
        range_config: range_config_pb2.RangeConfig | None = None,
    ) -> None:
        name = type(self).__name__
        super().__init__(
            **given(
                input_base=input_base,
                input_config=proto_argument(input_config, example_gen_pb2.Input, "input_config", name),
                output_config=proto_argument(output_config, example_gen_pb2.Output, "output_config", name),
                range_config=proto_argument(range_config, range_config_pb2.RangeConfig, "range_config", name),
            )
        )


class CsvExampleGen(_FileBasedExampleGen):
    """CSV files -> gzipped TFRecords of tf.Example, split 2:1 train/eval by default.

    Column types are inferred (int, float, string); empty cells are missing features.
    """

    EXECUTOR = "pipelinekit.components.example_gen.executor:run_csv_example_gen"


class ImportExampleGen(_FileBasedExampleGen):
    """TFRecord files of tf.Example (gzipped or not), of tf.SequenceExample with
    ``payload_format=FORMAT_TF_SEQUENCE_EXAMPLE``, or Parquet files with
    ``payload_format=FORMAT_PARQUET``, -> Examples, split 2:1 by default."""

    EXECUTOR = "pipelinekit.components.example_gen.executor:run_import_example_gen"

    def __init__(
        self,
        input_base: str | None = None,
        input_config: example_gen_pb2.Input | None = None,
        output_config: example_gen_pb2.Output | None = None,
        range_config: range_config_pb2.RangeConfig | None = None,
        payload_format: int = example_gen_pb2.FORMAT_TF_EXAMPLE,
    ) -> None:
        supported = (example_gen_pb2.FORMAT_TF_EXAMPLE, example_gen_pb2.FORMAT_TF_SEQUENCE_EXAMPLE, example_gen_pb2.FORMAT_PARQUET)
        if payload_format not in supported:
            raise ComponentArgumentError(
                f"ImportExampleGen(payload_format={payload_format}): FORMAT_TF_EXAMPLE, FORMAT_TF_SEQUENCE_EXAMPLE and "
                "FORMAT_PARQUET are supported; convert the records to one of them first"
            )
        super().__init__(input_base, input_config, output_config, range_config)
        if payload_format != example_gen_pb2.FORMAT_TF_EXAMPLE:
            self.given_parameters["output_data_format"] = payload_format  # TFX records it so too
