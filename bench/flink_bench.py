"""The data half (CsvExampleGen + StatisticsGen) on Flink with one and with two TaskManagers,
against the DirectRunner on the same generated CSV in the same run; with ``--penguin``, the
penguin example pipeline instead (as tests/flink runs it), timing its Beam-using nodes.

Needs the local cluster with two TaskManagers (``scripts/flink_cluster.sh start 2``): the job's
``--parallelism=1`` runs on one TaskManager's slot, ``--parallelism=2`` on both. Each variant
is a fresh pipeline root, run serially (LocalDagRunner) so only one job is on the cluster.
Usage: .venv/bin/python bench/flink_bench.py [--rows 100000 | --penguin]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "tests", "flink")]

from data_bench import generate  # noqa: E402
from flink_helpers import BEAM_NODES, flink_args, load_penguin  # noqa: E402

NODES = ("CsvExampleGen", "StatisticsGen")


def timed(pipeline: Any, nodes: Sequence[str]) -> dict[str, float]:
    """Run ``pipeline`` serially: the seconds of each of ``nodes``, and of the whole run."""
    from pipelinekit import LocalDagRunner

    started = time.perf_counter()
    result = LocalDagRunner().run(pipeline)
    result.raise_for_failure()
    seconds = {node: result.nodes[node].duration for node in nodes}
    seconds["total"] = time.perf_counter() - started
    return seconds


def run_variant(csv_folder: str, root: str, args: list[str]) -> dict[str, float]:
    from pipelinekit.components import CsvExampleGen, StatisticsGen

    from pipelinekit import Pipeline

    example_gen = CsvExampleGen(input_base=csv_folder)
    statistics = StatisticsGen(examples=example_gen.outputs["examples"])
    return timed(Pipeline("flink_bench", root, [statistics], beam_pipeline_args=args), NODES)


def run_penguin(root: str, args: list[str]) -> dict[str, float]:
    """The penguin pipeline on a fresh ``root`` with ``args`` added."""
    pipeline = load_penguin(root)
    pipeline.beam_pipeline_args.extend(args)
    return timed(pipeline, BEAM_NODES)


def penguin(flink: list[str]) -> None:
    """The penguin table: per-node seconds, each Flink run against the DirectRunner's and the
    one-TaskManager run against the two-TaskManager one."""
    import tensorflow_model_analysis  # noqa: F401 - imported before any clock starts
    import tensorflow_transform  # noqa: F401

    os.environ.setdefault("PENGUIN_TRAIN_STEPS", "120")  # as tests/flink runs it
    variants = {"DirectRunner": [], "Flink, 1 TM": [*flink, "--parallelism=1"], "Flink, 2 TMs": [*flink, "--parallelism=2"]}
    print(f"load: {_load()} at the start; penguin, PENGUIN_TRAIN_STEPS={os.environ['PENGUIN_TRAIN_STEPS']}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for name, args in variants.items():
            results[name] = run_penguin(os.path.join(work, name.replace(" ", "_").replace(",", "")), args)
            print(f"{name}: total {results[name]['total']:.1f} s (load {_load()})", flush=True)
    direct, one, two = results.values()
    print("| node | " + " | ".join(variants) + " | 1 TM / Direct | 2 TMs / Direct | 1 TM / 2 TMs |")
    print("| --- " * (len(variants) + 4) + "|")
    for node in [*BEAM_NODES, "total"]:
        cells = " | ".join(f"{r[node]:.1f} s" for r in results.values())
        ratios = f"{one[node] / direct[node]:.1f}x | {two[node] / direct[node]:.1f}x | {one[node] / two[node]:.2f}x"
        print(f"| {node} | {cells} | {ratios} |")
    print(f"load: {_load()} at the end")


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1, 5, 15 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--penguin", action="store_true", help="the penguin pipeline instead of the data half")
    options = parser.parse_args()
    import tensorflow  # noqa: F401 - imported before any clock starts
    import tensorflow_data_validation  # noqa: F401

    flink = flink_args()
    if options.penguin:
        penguin(flink)
        return
    variants = {
        "DirectRunner (auto path)": [],
        "DirectRunner (Beam path)": ["PIPELINEKIT_DATA_PATH=beam"],
        "Flink, 1 TaskManager": [*flink, "--parallelism=1"],
        "Flink, 2 TaskManagers": [*flink, "--parallelism=2"],
    }
    print(f"load: {_load()} at the start, {options.rows:,} rows")
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
                f"{name:28s} ExampleGen {r['CsvExampleGen']:6.1f} s  StatisticsGen {r['StatisticsGen']:6.1f} s"
                f"  total {r['total']:6.1f} s (load {_load()})",
                flush=True,
            )
        base = results["DirectRunner (auto path)"]["total"]
        beam = results["DirectRunner (Beam path)"]["total"]
        one, two = results["Flink, 1 TaskManager"]["total"], results["Flink, 2 TaskManagers"]["total"]
        print(
            f"Flink 1 TM / Direct auto: {one / base:.1f}x   Flink 1 TM / Direct Beam path: {one / beam:.1f}x   1 TM / 2 TMs: {one / two:.2f}x"
        )
    print(f"load: {_load()} at the end")


if __name__ == "__main__":
    main()
