"""Print what the taxi pipeline's last ExampleValidator run found, one line per anomaly.

    .venv/bin/python examples/taxi/show_anomalies.py [PIPELINE_FILE]

Reads the newest anomalies from the pipeline's ML Metadata (honouring ``TAXI_ROOT`` like the
pipeline file does). Exit status: 0 when every split is clean, 1 when anomalies were found.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def anomalies_report(pipeline_file: str) -> tuple[str, bool]:
    """The newest ExampleValidator output of the pipeline, described, and whether it is clean."""
    from pipelinekit.components.example_validator.executor import describe_anomalies
    from pipelinekit.components.util.tfdv_io import ANOMALIES_FILE
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    from pipelinekit.dsl.loader import load_pipeline
    from pipelinekit.metadata import MetadataStore, latest_output

    pipeline = load_pipeline(pipeline_file)
    artifact = latest_output(MetadataStore(pipeline.metadata), pipeline.pipeline_name, "ExampleValidator", "anomalies")
    by_split = {}
    for split in artifact.splits:
        with open(os.path.join(artifact.split_uri(split), ANOMALIES_FILE), "rb") as handle:
            by_split[split] = anomalies_pb2.Anomalies.FromString(handle.read())
    lines = "\n".join(filter(None, [describe_anomalies(by_split), _drift_measurements(by_split)]))
    header = f"span {artifact.span}: " + ("no anomalies" if not lines else "anomalies found")
    return "\n".join(filter(None, [header, lines])), not lines


def _drift_measurements(by_split: dict[str, Any]) -> str:
    """One line per compared feature: the distance TFDV measured against the baseline and its threshold."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    lines = []
    for split, result in by_split.items():
        for info in result.drift_skew_info:
            for m in info.drift_measurements:
                kind = anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(m.type)
                lines.append(
                    f"  measured: split {split!r}, feature {'.'.join(info.path.step)!r}: {kind} {m.value:.3f} (threshold {m.threshold})"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipeline_file", nargs="?", default=os.path.join(HERE, "pipeline.py"))
    args = parser.parse_args(argv)
    report, clean = anomalies_report(args.pipeline_file)
    print(report)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
