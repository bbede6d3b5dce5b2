"""Fixtures for the standard components' tests: the raw palmerpenguins CSV as ExampleGen
reads it, and one session-wide run of the data components on it that many tests inspect.

palmerpenguins writes missing values as ``NA``; ExampleGen (like TFX) treats only empty
cells as missing, so the fixture writes the same rows with empty cells instead.
"""

from __future__ import annotations

import os
import pathlib
import shutil
from dataclasses import dataclass
from typing import Any

import pytest

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


@dataclass
class DataRun:
    """The session run: its pipeline root, input folder, module file and RunResult."""

    root: str
    data: str
    module_file: str
    result: Any

    def output(self, node: str, key: str) -> Any:
        return self.result.output(node, key)


@pytest.fixture(scope="session")
def penguin_data(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("penguins") / "span-1"
    folder.mkdir()
    (folder / "penguins.csv").write_text(penguins_csv_text())
    return str(folder.parent)


@pytest.fixture(scope="session")
def penguin_module(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("module") / "penguin_transform.py"
    path.write_text(PENGUIN_MODULE)
    return str(path)


def data_pipeline(root: str, data: str, module_file: str, **validator: Any) -> Any:
    """ExampleGen (span pattern) -> StatisticsGen -> SchemaGen -> ExampleValidator, Transform."""
    from pipelinekit.components import CsvExampleGen, ExampleValidator, SchemaGen, StatisticsGen, Transform

    from pipelinekit import Pipeline
    from pipelinekit.tfx import proto

    gen = CsvExampleGen(input_base=data, input_config=proto.Input(splits=[proto.Input.Split(name="all", pattern="span-{SPAN}/*.csv")]))
    stats = StatisticsGen(examples=gen.outputs["examples"])
    schema = SchemaGen(statistics=stats.outputs["statistics"])
    check = ExampleValidator(statistics=stats.outputs["statistics"], schema=schema.outputs["schema"], **validator)
    transform = Transform(
        examples=gen.outputs["examples"], schema=schema.outputs["schema"], module_file=module_file, custom_config={"top_k": 2}
    )
    return Pipeline("penguin_data", root, [check, transform])


@pytest.fixture(scope="session")
def data_run(tmp_path_factory, penguin_data, penguin_module) -> DataRun:
    from pipelinekit import LocalDagRunner

    root = str(tmp_path_factory.mktemp("data_run") / "root")
    result = LocalDagRunner().run(data_pipeline(root, penguin_data, penguin_module))
    result.raise_for_failure()
    return DataRun(root, penguin_data, penguin_module, result)


def copy_tree(source: str, target: str) -> str:
    shutil.copytree(source, target)
    return target


def read_examples(folder: str) -> list[Any]:
    """The tf.Examples in the gzipped TFRecords of one split folder."""
    import tensorflow as tf

    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
