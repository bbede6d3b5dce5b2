"""Parquet payloads (``payload_format=FORMAT_PARQUET``): ImportExampleGen reads Parquet files and
writes each output split as one Parquet file, ``Split-<name>/data_parquet-00000-of-00001.parquet``.

Columns are stored as lists of their values (a row's missing value is a null list), the
columnar form tf.Examples decode to, so TFDV and tfx-bsl's ``ParquetTFXIO`` read the files as
they are; TFX writes the input's plain columns, which TFDV then refuses."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Any

from pipelinekit.components.example_gen.splitting import Splitter
from pipelinekit.components.util.errors import InputDataError

from pipelinekit.types.standard import Examples

__all__ = ["PARQUET_FILE", "write_parquet_splits"]

PARQUET_FILE = "data_parquet-00000-of-00001.parquet"


def write_parquet_splits(examples: Examples, plan: dict[str, Splitter | None], files: dict[str, list[str]]) -> None:
    """Read each input split's Parquet files and write its rows to the output splits (hash
    split by the whole row, or by ``partition_feature_name``'s value, as tf.Examples are)."""
    import pyarrow.parquet as pq

    for input_name, splitter in plan.items():
        table = read_parquet_files(files[input_name])
        names = list(splitter.names) if splitter else [input_name]
        rows = _split_indices(table, splitter) if splitter else [list(range(table.num_rows))]
        for name, indices in zip(names, rows, strict=True):
            os.makedirs(examples.split_uri(name), exist_ok=True)
            pq.write_table(table.take(indices), os.path.join(examples.split_uri(name), PARQUET_FILE))


def read_parquet_files(paths: list[str]) -> Any:
    """The files' rows as one Arrow table of list columns; errors name the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for path in paths:
        try:
            tables.append(pq.read_table(path))
        except (OSError, pa.ArrowException) as error:
            raise InputDataError(
                f"{path} is not a readable Parquet file ({error}); ImportExampleGen(payload_format=FORMAT_PARQUET) reads Parquet"
            ) from error
    if not tables or not sum(t.num_rows for t in tables):
        raise InputDataError(f"the Parquet files {paths} hold no rows; give files with data")
    try:
        table = pa.concat_tables(tables, promote=True)
    except pa.ArrowInvalid as error:
        raise InputDataError(f"the Parquet files {paths} have columns of different types: {error}") from error
    return pa.table({name: _as_lists(table.column(name)) for name in table.column_names})


def _as_lists(column: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    values = column.combine_chunks()
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        return values
    offsets = pa.array(np.arange(len(values) + 1, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, values, mask=values.is_null())


def _split_indices(table: Any, splitter: Splitter) -> list[list[int]]:
    """Per output split, the indices of its rows."""
    column = splitter.partition_feature
    if column and column not in table.column_names:
        raise InputDataError(
            f"Feature name `{column}` does not exist; partition_feature_name must name a column, one of {table.column_names}"
        )
    by_row = replace(splitter, partition_feature="")  # the key is made here, not from a tf.Example
    keys = table.column(column).to_pylist() if column else table.to_pylist()
    parts: list[list[int]] = [[] for _ in splitter.names]
    for index, key in enumerate(keys):
        parts[by_row(json.dumps(key, sort_keys=True, default=str).encode())].append(index)
    return parts
