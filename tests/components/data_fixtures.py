"""Penguin data, a Transform module and the data components' pipeline, shared by the data
components' tests (imported by name, as ``model_fixtures`` is; conftest.py holds the fixtures).

palmerpenguins writes missing values as ``NA``; ExampleGen (like TFX) treats only empty
cells as missing, so the tests write the same rows with empty cells instead.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

PENGUIN_COLUMNS = ("species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year")
"""penguins.csv's columns, which ExampleGen makes features and SchemaGen puts in the schema."""

# The start of a test's Transform module file: its imports and a densifier for a [batch, 1]
# feature that may be sparse (missing in some rows).
TFT_MODULE_START = '''
import tensorflow as tf
import tensorflow_transform as tft


def _dense(value, default):
    if isinstance(value, tf.SparseTensor):
        value = tf.sparse.to_dense(tf.SparseTensor(value.indices, value.values, [value.dense_shape[0], 1]), default_value=default)
    return tf.squeeze(value, axis=1)
'''

PENGUIN_MODULE = '''
import tensorflow as tf
import tensorflow_transform as tft

from pipelinekit.tfx.components.transform import stats_options_util

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def _dense(value, default):
    """A [batch] tensor with ``default`` where the feature is missing (as TFX's taxi module)."""
    if isinstance(value, tf.SparseTensor):
        value = tf.sparse.to_dense(tf.SparseTensor(value.indices, value.values, [value.dense_shape[0], 1]), default_value=default)
    return tf.squeeze(value, axis=1)


def preprocessing_fn(inputs, custom_config):
    outputs = {}
    for key in NUMERIC:
        outputs[key + "_xf"] = tft.scale_to_0_1(tf.cast(_dense(inputs[key], 0), tf.float32))
    outputs["species_xf"] = tft.compute_and_apply_vocabulary(_dense(inputs["species"], b""))
    outputs["island_xf"] = tft.compute_and_apply_vocabulary(_dense(inputs["island"], b""), top_k=custom_config["top_k"])
    return outputs


def stats_options_updater_fn(stats_type, stats_options):
    if stats_type == stats_options_util.StatsType.PRE_TRANSFORM:
        stats_options.num_top_values = 1
    return stats_options
'''


def penguins_csv_text() -> str:
    """penguins.csv with its ``NA`` cells made empty (the rows and columns are unchanged)."""
    import palmerpenguins

    source = pathlib.Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    lines = source.read_text().splitlines()
    return "\n".join(",".join("" if cell == "NA" else cell for cell in line.split(",")) for line in lines) + "\n"


def penguins_frame() -> Any:
    import palmerpenguins
    import pandas as pd

    return pd.read_csv(pathlib.Path(palmerpenguins.__file__).parent / "data" / "penguins.csv")


def data_pipeline(root: str, data: str, module_file: str, **validator: Any) -> Any:
    """ExampleGen (span pattern) -> StatisticsGen -> SchemaGen -> ExampleValidator, Transform."""
    from pipelinekit.components import CsvExampleGen, ExampleValidator, SchemaGen, StatisticsGen, Transform

    from pipelinekit import Pipeline
    from pipelinekit.tfx import proto

    gen = CsvExampleGen(
        input_base=data, input_config=proto.Input(splits=[proto.Input.Split(name="all", pattern="span-{SPAN}/*.csv")])
    )
    stats = StatisticsGen(examples=gen.outputs["examples"])
    schema = SchemaGen(statistics=stats.outputs["statistics"])
    check = ExampleValidator(statistics=stats.outputs["statistics"], schema=schema.outputs["schema"], **validator)
    transform = Transform(
        examples=gen.outputs["examples"], schema=schema.outputs["schema"], module_file=module_file, custom_config={"top_k": 2}
    )
    return Pipeline("penguin_data", root, [check, transform])


def read_examples(folder: str) -> list[Any]:
    """The tf.Examples in the gzipped TFRecords of one split folder."""
    import tensorflow as tf

    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
