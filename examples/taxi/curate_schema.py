"""Make the curated schema (``schema/schema.pbtxt``) that the taxi pipeline carries from span to span.

    .venv/bin/python examples/taxi/curate_schema.py [--data examples/taxi/data]

TFDV infers a schema from span 1's rows (typed exactly as CsvExampleGen types them), and this
script then adds what a person curating it would: drift comparators on the features whose
distribution must not move between spans. ExampleValidator applies them when it is given the
previous span's statistics as a baseline. The result is committed; rerun this only to change
the curation.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_FILE = os.path.join(HERE, "schema", "schema.pbtxt")

# Jensen-Shannon divergence for numeric features, L-infinity distance for categorical ones.
# The thresholds sit well above sampling noise for a few thousand rows per split.
NUMERIC_DRIFT = {"trip_miles": 0.05, "fare": 0.05, "trip_start_hour": 0.05}
CATEGORICAL_DRIFT = {"payment_type": 0.1, "company": 0.1}
HEADER = "# The taxi example's curated schema: TFDV's inference on span 1 plus drift comparators.\n# Written by examples/taxi/curate_schema.py; edit the script and rerun it rather than this file.\n"


def infer_schema(span_files: list[str]) -> Any:
    """TFDV's schema inferred from the rows of ``span_files``, read as CsvExampleGen reads them."""
    import tensorflow_data_validation as tfdv
    from pipelinekit.components.example_gen.csv_io import read_csv_batch
    from tensorflow_data_validation.statistics import stats_impl

    statistics = stats_impl.generate_statistics_in_memory(read_csv_batch(span_files), tfdv.StatsOptions())
    return tfdv.infer_schema(statistics)


def add_drift_comparators(schema: Any) -> Any:
    """Set the drift comparators of NUMERIC_DRIFT and CATEGORICAL_DRIFT on ``schema`` in place."""
    import tensorflow_data_validation as tfdv

    for name, threshold in NUMERIC_DRIFT.items():
        tfdv.get_feature(schema, name).drift_comparator.jensen_shannon_divergence.threshold = threshold
    for name, threshold in CATEGORICAL_DRIFT.items():
        tfdv.get_feature(schema, name).drift_comparator.infinity_norm.threshold = threshold
    return schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(HERE, "data"), help="folder holding span-1/ (default: examples/taxi/data)")
    parser.add_argument("--output", default=SCHEMA_FILE, help="schema file to write (default: examples/taxi/schema/schema.pbtxt)")
    args = parser.parse_args(argv)
    files = sorted(glob.glob(os.path.join(args.data, "span-1", "*.csv")))
    if not files:
        parser.error(f"no CSV file under {os.path.join(args.data, 'span-1')}; run examples/taxi/generate_data.py first")

    schema = add_drift_comparators(infer_schema(files))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    from google.protobuf import text_format

    with open(args.output, "w") as handle:
        handle.write(HEADER + text_format.MessageToString(schema))
    print(
        f"wrote {args.output} ({len(schema.feature)} features, drift comparators on {', '.join([*NUMERIC_DRIFT, *CATEGORICAL_DRIFT])})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
