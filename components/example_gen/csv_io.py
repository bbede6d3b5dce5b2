"""CSV files to Arrow record batches of list-typed columns, the form tfx-bsl encodes into
tf.Examples. Column types are inferred like TFX's (tfx-bsl ``ColumnTypeInferrer``): int64 if
every non-empty cell is an integer, else float if every one is a number, else bytes; an empty
cell is an empty value list of its column's type (never a zero), as TFX's CsvExampleGen writes
it, so a split where a column happens to be empty still has the column, typed: TFDV's
statistics of that split agree with the others and SchemaGen keeps the feature. A column that
is empty everywhere is left out."""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterator
from typing import Any

from pipelinekit.components.util.errors import InputDataError

__all__ = ["read_header", "csv_files", "infer_column_types", "record_batches", "read_csv_batch"]

_TYPE_ORDER = ("int", "float", "string")
BLOCK_BYTES = 1 << 22
"""Bytes of CSV parsed per Arrow batch: memory stays flat however large the file."""


def csv_files(pattern: str) -> list[str]:
    """The files a split pattern names, each checked to have a header."""
    return sorted(p for p in glob.glob(pattern) if os.path.isfile(p))


def read_header(path: str) -> list[str]:
    """The column names on the first line (a UTF-8 BOM and CRLF endings are fine)."""
    if os.path.getsize(path) == 0:
        raise InputDataError(f"CSV file {path} is empty; it needs a header line and at least one row")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    names = [name.strip() for name in header]
    if not names or any(not n for n in names):
        raise InputDataError(f"CSV file {path}, line 1: the header {header!r} has an empty column name; name every column")
    if len(set(names)) != len(names):
        raise InputDataError(f"CSV file {path}, line 1: the header repeats a column name: {names}")
    return names


def infer_column_types(files: list[str]) -> tuple[list[str], dict[str, str | None]]:
    """First pass: the common header and each column's type over all files, streaming."""
    header = _common_header(files)
    per_file = []
    for path in files:
        kinds: dict[str, str | None] = dict.fromkeys(header)
        rows = 0
        for batch in _string_batches(path, header):
            rows += batch.num_rows
            for name in header:
                kinds[name] = _wider(kinds[name], _column_type(batch.column(name), kinds[name]))
        if rows == 0:
            raise InputDataError(f"CSV file {path} has a header but no rows; add data or remove the file")
        per_file.append(kinds)
    return header, {name: _combine(name, files, [k[name] for k in per_file]) for name in header}


def record_batches(files: list[str], header: list[str], types: dict[str, str | None]) -> Iterator[Any]:
    """Second pass: ``pa.RecordBatch``es of list-typed columns (untyped columns left out)."""
    import pyarrow as pa

    kept = [name for name in header if types[name] is not None]
    for path in files:
        for batch in _string_batches(path, header):
            yield pa.RecordBatch.from_arrays([_to_list_array(batch.column(n), types[n]) for n in kept], kept)  # type: ignore[arg-type]


def read_csv_batch(files: list[str]) -> Any:
    """All rows of ``files`` as one ``pa.RecordBatch`` (for small inputs and tests)."""
    import pyarrow as pa

    header, types = infer_column_types(files)
    return pa.Table.from_batches(list(record_batches(files, header, types))).combine_chunks().to_batches()[0]


def _common_header(files: list[str]) -> list[str]:
    header = read_header(files[0])
    for path in files[1:]:
        other = read_header(path)
        if other != header:
            raise InputDataError(f"CSV files {files[0]} and {path} have different headers: {header} vs {other}; give each layout its own split")
    return header


def _string_batches(path: str, header: list[str]) -> Iterator[Any]:
    """Stream the file as Arrow batches of nullable strings (empty cells are null)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = (
        pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=BLOCK_BYTES),
        pacsv.ParseOptions(newlines_in_values=True),
        pacsv.ConvertOptions(column_types={n: pa.string() for n in header}, null_values=[""], strings_can_be_null=True),
    )
    try:
        reader = pacsv.open_csv(path, read_options=options[0], parse_options=options[1], convert_options=options[2])
        yield from reader
    except pa.ArrowInvalid as error:
        raise InputDataError(_parse_problem(path, len(header), error)) from error


def _parse_problem(path: str, width: int, error: Exception) -> str:
    """Say which line is ragged (pyarrow's message does not), re-reading the file with ``csv``."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for row in reader:
            if row and len(row) != width:
                return f"CSV file {path}, line {reader.line_num}: expected {width} fields as in the header, found {len(row)}; fix or remove that row"
    return f"CSV file {path} cannot be parsed: {error}"


def _wider(current: str | None, new: str | None) -> str | None:
    if current is None or new is None:
        return current or new
    return max(current, new, key=_TYPE_ORDER.index)


def _combine(name: str, files: list[str], kinds: list[str | None]) -> str | None:
    """A column's type over all files; numbers in one file and text in another is an error
    naming both, since it is almost always a broken export."""
    seen = [(path, kind) for path, kind in zip(files, kinds) if kind is not None]
    if any(k == "string" for _, k in seen) and any(k != "string" for _, k in seen):
        text = next(p for p, k in seen if k == "string")
        number = next(p for p, k in seen if k != "string")
        raise InputDataError(f"column {name!r} holds numbers in {number} but text in {text}; make the files agree")
    result: str | None = None
    for _, kind in seen:
        result = _wider(result, kind)
    return result


def _column_type(column: Any, known: str | None = None) -> str | None:
    """The narrowest type of a column's non-empty cells, not narrower than ``known``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if known == "string":
        return known
    values = column.drop_null()
    if len(values) == 0:
        return None
    candidates = (("int", pa.int64()), ("float", pa.float64()))
    for kind, arrow_type in candidates[_TYPE_ORDER.index(known) if known else 0 :]:
        try:
            pc.cast(values, arrow_type)
            return kind
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return "string"


def _to_list_array(column: Any, kind: str) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if hasattr(column, "combine_chunks"):
        column = column.combine_chunks()
    valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    values = column.drop_null()
    if kind == "int":
        values = pc.cast(values, pa.int64())
    elif kind == "float":
        values = pc.cast(pc.cast(values, pa.float64()), pa.float32())
    else:
        values = pc.cast(values, pa.large_binary())
    offsets = np.zeros(len(valid) + 1, dtype=np.int64)
    np.cumsum(valid, out=offsets[1:])
    return pa.LargeListArray.from_arrays(pa.array(offsets), values)  # an empty cell: an empty list, not a null
