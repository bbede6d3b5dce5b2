"""Data components benchmark: CsvExampleGen, StatisticsGen and Transform on generated taxi-like
CSVs, each figure next to a reference measured in the same run on the same files.

- ExampleGen vs a plain Beam pipeline doing the same conversion (read CSV, decode with
  tfx-bsl, write gzipped tf.Example TFRecords) on the DirectRunner.
- StatisticsGen vs ``tfdv.generate_statistics_from_tfrecord`` on ExampleGen's files.
- Transform vs tf.Transform's ``AnalyzeAndTransformDataset`` + ``TransformDataset`` called
  directly (analyze train, transform train and eval, write TFRecords): the same work.

Every step runs in its own process (after its imports, which are not timed), so each has its
own peak RSS. Usage: .venv/bin/python bench/data_bench.py [--rows 100000,1000000,5000000]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)

PREPROCESSING = '''
import tensorflow as tf
import tensorflow_transform as tft


def _dense(value, default):
    if isinstance(value, tf.SparseTensor):
        value = tf.sparse.to_dense(tf.SparseTensor(value.indices, value.values, [value.dense_shape[0], 1]), default_value=default)
    return tf.squeeze(value, axis=1)


def preprocessing_fn(inputs):
    out = {}
    for key in ("trip_miles", "fare", "tips"):
        out[key + "_xf"] = tft.scale_to_z_score(_dense(inputs[key], 0.0))
    for key in ("trip_seconds", "pickup_hour"):
        out[key + "_xf"] = tft.scale_to_0_1(tf.cast(_dense(inputs[key], 0), tf.float32))
    for key in ("payment_type", "company"):
        out[key + "_xf"] = tft.compute_and_apply_vocabulary(_dense(inputs[key], b""), top_k=20)
    return out
'''


def generate(rows: int, folder: str) -> str:
    """A taxi-like CSV: floats, ints and strings, with missing cells in some columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(rows)

    def holes(values: Any, fraction: float) -> Any:
        series = pd.Series(values)
        series[rng.random(rows) < fraction] = None
        return series

    frame = pd.DataFrame({
        "trip_miles": holes(np.round(rng.gamma(2.0, 2.0, rows), 2), 0.05),
        "fare": np.round(rng.gamma(3.0, 4.0, rows), 2),
        "tips": np.round(rng.exponential(2.0, rows), 2),
        "trip_seconds": holes(rng.integers(60, 7200, rows), 0.05).astype("Int64"),
        "pickup_hour": rng.integers(0, 24, rows),
        "pickup_community_area": holes(rng.integers(1, 78, rows), 0.1).astype("Int64"),
        "payment_type": rng.choice(["Cash", "Credit Card", "No Charge", "Dispute", "Unknown", "Mobile"], rows),
        "company": holes(rng.choice([f"Company {i:02d}" for i in range(50)], rows), 0.2),
    })
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "taxi.csv")
    frame.to_csv(path, index=False, na_rep="")
    return path


def _path_taken(work: str, pattern: str) -> str:
    """Which path the executor chose for inputs of this size (the rule in examples_io.in_process)."""
    from pipelinekit.components.util.examples_io import IN_PROCESS_ENV, IN_PROCESS_MAX_BYTES

    forced = os.environ.get(IN_PROCESS_ENV, "auto")
    if forced != "auto":
        return forced
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(work, pattern)))
    return "in_process" if size <= IN_PROCESS_MAX_BYTES else "beam"


def _node_seconds(result: Any, node: str) -> float:
    result.raise_for_failure()
    info = result.nodes[node]
    return info.finished_at - info.started_at


def step_examplegen(work: str) -> dict[str, Any]:
    import tensorflow  # noqa: F401 - imported before the clock starts, as in a pipeline run
    from pipelinekit.components import CsvExampleGen

    from pipelinekit import LocalDagRunner, Pipeline

    result = LocalDagRunner().run(Pipeline("bench", os.path.join(work, "root"), [CsvExampleGen(input_base=os.path.join(work, "csv"))]))
    examples = result.output("CsvExampleGen", "examples")
    with open(os.path.join(work, "examples.json"), "w") as handle:
        json.dump({"uri": examples.uri, "split_names": examples.split_names}, handle)
    return {"seconds": _node_seconds(result, "CsvExampleGen"), "path": _path_taken(work, "csv/*")}


def step_beam_reference(work: str) -> dict[str, Any]:
    import apache_beam as beam
    from pipelinekit.components.example_gen.csv_io import read_header
    from tfx_bsl.coders import csv_decoder, example_coder

    path = os.path.join(work, "csv", "taxi.csv")
    header = read_header(path)
    out = os.path.join(work, "reference", "data_tfrecord")
    start = time.perf_counter()
    with beam.Pipeline() as pipeline:
        _ = (
            pipeline
            | beam.io.ReadFromText(path, skip_header_lines=1)
            | csv_decoder.CSVToRecordBatch(column_names=header, desired_batch_size=10_000)
            | beam.FlatMap(lambda batch: example_coder.RecordBatchToExamplesEncoder().encode(batch))
            | beam.io.WriteToTFRecord(out, file_name_suffix=".gz")
        )
    return {"seconds": time.perf_counter() - start, "path": "beam"}


def _examples_node(work: str) -> Any:
    from pipelinekit import Examples, importer

    with open(os.path.join(work, "examples.json")) as handle:
        info = json.load(handle)
    return importer(info["uri"], Examples, properties={"split_names": info["split_names"]}).with_id("examples")


def step_statisticsgen(work: str) -> dict[str, Any]:
    import tensorflow_data_validation  # noqa: F401
    from pipelinekit.components import StatisticsGen

    from pipelinekit import LocalDagRunner, Pipeline

    node = StatisticsGen(examples=_examples_node(work).outputs["result"])
    result = LocalDagRunner().run(Pipeline("bench_stats", os.path.join(work, "root_stats"), [node]))
    return {"seconds": _node_seconds(result, "StatisticsGen"), "path": _path_taken(work, "root/CsvExampleGen/examples/*/Split-*/*")}


def step_tfdv_reference(work: str) -> dict[str, Any]:
    import tensorflow_data_validation as tfdv

    with open(os.path.join(work, "examples.json")) as handle:
        uri = json.load(handle)["uri"]
    start = time.perf_counter()
    tfdv.generate_statistics_from_tfrecord(data_location=os.path.join(uri, "Split-*", "*"), output_path=os.path.join(work, "ref.stats"))
    return {"seconds": time.perf_counter() - start, "path": "beam"}


def step_transform(work: str) -> dict[str, Any]:
    from pipelinekit.components import SchemaGen, StatisticsGen, Transform
    from pipelinekit.components.util.keras3 import import_tft

    from pipelinekit import LocalDagRunner, Pipeline

    import_tft()
    examples = _examples_node(work)
    stats = StatisticsGen(examples=examples.outputs["result"])
    schema = SchemaGen(statistics=stats.outputs["statistics"])
    module = os.path.join(work, "preprocessing.py")
    transform = Transform(examples=examples.outputs["result"], schema=schema.outputs["schema"], module_file=module,
                          disable_statistics=True, disable_analyzer_cache=True)
    result = LocalDagRunner().run(Pipeline("bench_tft", os.path.join(work, "root_tft"), [transform]))
    with open(os.path.join(work, "schema.json"), "w") as handle:
        json.dump({"uri": result.output("SchemaGen", "schema").uri}, handle)
    return {"seconds": _node_seconds(result, "Transform"), "path": "beam"}


def step_tft_reference(work: str) -> dict[str, Any]:
    import apache_beam as beam
    from pipelinekit.components.util.keras3 import import_tft
    from pipelinekit.components.util.module_loader import load_function
    from pipelinekit.components.util.tfdv_io import load_schema
    from tfx_bsl.coders import example_coder
    from tfx_bsl.public import tfxio

    import_tft()
    import tensorflow_transform.beam as tft_beam

    with open(os.path.join(work, "examples.json")) as handle:
        uri = json.load(handle)["uri"]
    with open(os.path.join(work, "schema.json")) as handle:
        schema = load_schema(os.path.join(json.load(handle)["uri"], "schema.pbtxt"))
    fn = load_function("preprocessing_fn", os.path.join(work, "preprocessing.py"))
    sources = {s: tfxio.TFExampleRecord(os.path.join(uri, f"Split-{s}", "*"), schema=schema) for s in ("train", "eval")}
    start = time.perf_counter()
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=os.path.join(work, "tft_tmp")):
        adapter = sources["train"].TensorAdapterConfig()
        train = pipeline | "ReadTrain" >> sources["train"].BeamSource()
        evaluation = pipeline | "ReadEval" >> sources["eval"].BeamSource()
        (train_out, _), transform_fn = (train, adapter) | tft_beam.AnalyzeAndTransformDataset(fn, output_record_batches=True)
        (eval_out, _) = ((evaluation, adapter), transform_fn) | tft_beam.TransformDataset(output_record_batches=True)
        _ = transform_fn | tft_beam.WriteTransformFn(os.path.join(work, "ref_graph"))
        for name, data in (("train", train_out), ("eval", eval_out)):
            _ = (data | f"Encode{name}" >> beam.FlatMap(lambda pair: example_coder.RecordBatchToExamplesEncoder().encode(pair[0]))
                 | f"Write{name}" >> beam.io.WriteToTFRecord(os.path.join(work, "ref_tft", name, "t"), file_name_suffix=".gz"))
    return {"seconds": time.perf_counter() - start, "path": "beam"}


STEPS = {f.__name__[5:]: f for f in (step_examplegen, step_beam_reference, step_statisticsgen, step_tfdv_reference, step_transform, step_tft_reference)}


def run_step(step: str, work: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one step in a fresh process and return its seconds, path and peak RSS (MiB)."""
    command = [sys.executable, HERE, "--child", step, "--work", work]
    out = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"step {step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(rows: int, base: str) -> list[tuple[str, ...]]:
    work = os.path.join(base, str(rows))
    csv = generate(rows, os.path.join(work, "csv"))
    with open(os.path.join(work, "preprocessing.py"), "w") as handle:
        handle.write(PREPROCESSING)
    size = os.path.getsize(csv) / 2**20
    table = []
    pairs = [("ExampleGen", "examplegen", "beam_reference", "plain Beam CSV->TFRecord"),
             ("StatisticsGen", "statisticsgen", "tfdv_reference", "tfdv.generate_statistics_from_tfrecord"),
             ("Transform", "transform", "tft_reference", "tft_beam AnalyzeAndTransformDataset")]
    for name, ours, reference, label in pairs:
        mine, ref = run_step(ours, work), run_step(reference, work)
        table.append((f"{rows:,}", f"{size:.0f}", name, mine["path"], f"{rows / mine['seconds']:,.0f}", f"{mine['seconds']:.1f}",
                      f"{mine['rss_mib']:.0f}", label, f"{ref['seconds']:.1f}", f"{ref['rss_mib']:.0f}", f"{ref['seconds'] / mine['seconds']:.2f}x"))
        print(" | ".join(table[-1]), flush=True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="100000,1000000,5000000", help="comma-separated row counts")
    parser.add_argument("--work", help="keep the generated data and outputs here (default: a temp folder)")
    parser.add_argument("--child", choices=sorted(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = STEPS[args.child](args.work)
        result["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    header = ("rows", "CSV MiB", "component", "path", "rows/s", "s", "peak MiB", "reference", "ref s", "ref peak MiB", "speed-up")
    print(" | ".join(header))
    with tempfile.TemporaryDirectory() as temp:
        for rows in [int(r) for r in args.rows.split(",")]:
            bench(rows, args.work or temp)


if __name__ == "__main__":
    main()
