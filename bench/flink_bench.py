"""The data half (CsvExampleGen + StatisticsGen) on Flink with one and with two TaskManagers,
against the DirectRunner on the same generated CSV in the same run.

Needs the local cluster with two TaskManagers (``scripts/flink_cluster.sh start 2``): the job's
``--parallelism=1`` runs on one TaskManager's slot, ``--parallelism=2`` on both. Each variant
is a fresh pipeline root, run serially (LocalDagRunner) so only one job is on the cluster.
Usage: .venv/bin/python bench/flink_bench.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from data_bench import generate  # noqa: E402

NODES = ("CsvExampleGen", "StatisticsGen")


def run_variant(csv_folder: str, root: str, args: list[str]) -> dict[str, float]:
    from pipelinekit.components import CsvExampleGen, StatisticsGen

    from pipelinekit import LocalDagRunner, Pipeline

    example_gen = CsvExampleGen(input_base=csv_folder)
    statistics = StatisticsGen(examples=example_gen.outputs["examples"])
    started = time.perf_counter()
    result = LocalDagRunner().run(Pipeline("flink_bench", root, [statistics], beam_pipeline_args=args))
    result.raise_for_failure()
    seconds = {node: result.nodes[node].finished_at - result.nodes[node].started_at for node in NODES}
    seconds["total"] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    options = parser.parse_args()
    import tensorflow  # noqa: F401 - imported before any clock starts
    import tensorflow_data_validation  # noqa: F401

    flink = subprocess.run(
        [os.path.join(REPO, "scripts", "flink_cluster.sh"), "args"], capture_output=True, text=True
    ).stdout.split()
    variants = {
        "DirectRunner (auto path)": [],
        "DirectRunner (Beam path)": ["PIPELINEKIT_DATA_PATH=beam"],
        "Flink, 1 TaskManager": [*flink, "--parallelism=1"],
        "Flink, 2 TaskManagers": [*flink, "--parallelism=2"],
    }
    print(f"load: {os.getloadavg()[0]:.1f} (1 min), {options.rows:,} rows")
    with tempfile.TemporaryDirectory() as work:
        csv = generate(options.rows, os.path.join(work, "csv"))
        print(f"CSV {os.path.getsize(csv) / 2**20:.1f} MiB")
        results = {}
        for name, args in variants.items():
            env = [a for a in args if a.startswith("PIPELINEKIT_")]
            for item in env:
                os.environ[item.split("=")[0]] = item.split("=", 1)[1]
            try:
                results[name] = run_variant(
                    os.path.dirname(csv), os.path.join(work, name.replace(" ", "_")), [a for a in args if a not in env]
                )
            finally:
                for item in env:
                    del os.environ[item.split("=")[0]]
            r = results[name]
            print(
                f"{name:28s} ExampleGen {r['CsvExampleGen']:6.1f} s  StatisticsGen {r['StatisticsGen']:6.1f} s  total {r['total']:6.1f} s",
                flush=True,
            )
        base = results["DirectRunner (auto path)"]["total"]
        beam = results["DirectRunner (Beam path)"]["total"]
        one, two = results["Flink, 1 TaskManager"]["total"], results["Flink, 2 TaskManagers"]["total"]
        print(
            f"Flink 1 TM / Direct auto: {one / base:.1f}x   Flink 1 TM / Direct Beam path: {one / beam:.1f}x   1 TM / 2 TMs: {one / two:.2f}x"
        )


if __name__ == "__main__":
    main()
