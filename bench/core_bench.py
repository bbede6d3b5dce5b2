"""Core benchmarks: start-up, compile, cached reruns, the Beam runner against the local one on
wide and deep pipelines, lineage as history grows, and the CLI's cached rerun of examples/demo.

Prints one table. Each figure comes with a reference measured in the same run (an empty Python
start-up, the first run of the same pipeline, the local runner, lineage after one run), because
this machine is shared and noisy; timed pairs are interleaved and their medians compared.
Usage: .venv/bin/python bench/core_bench.py [--repeat N] [--history N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from pipelinekit import BeamDagRunner, LocalDagRunner, Pipeline, compile_pipeline
from pipelinekit.metadata import MetadataStore, downstream, upstream
from pipelinekit.orchestration.listener import LoggingListener

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "examples", "toy"))
from toy_components import combine, generate, scale  # noqa: E402

Row = tuple[str, float, str, float]
QUIET = LoggingListener()  # logs at INFO, which this script does not show


def ten_nodes(root: str, work_s: float = 0.0) -> Pipeline:
    """generate -> four branches of two scale steps -> combine of two branches: 10 nodes,
    four of them independent in each middle layer."""
    source = generate(count=1000)
    ends = []
    for branch in range(4):
        first = scale(numbers=source.outputs["numbers"], factor=branch + 1.0, delay=work_s).with_id(f"b{branch}_1")
        ends.append(scale(numbers=first.outputs["scaled"], factor=2.0, delay=work_s).with_id(f"b{branch}_2"))
    return Pipeline("bench10", root, [combine(left=ends[0].outputs["scaled"], right=ends[1].outputs["scaled"]), *ends])


def wide(root: str, work_s: float = 0.0) -> Pipeline:
    """100 nodes: one source read by 99 independent nodes."""
    source = generate(count=10)
    fan = [scale(numbers=source.outputs["numbers"], factor=float(i), delay=work_s).with_id(f"s{i}") for i in range(99)]
    return Pipeline("wide", root, fan)


def deep(root: str, work_s: float = 0.0) -> Pipeline:
    """100 nodes in one chain: nothing can run in parallel."""
    node = generate(count=10)
    for index in range(99):
        node = scale(numbers=node.outputs["numbers" if index == 0 else "scaled"], factor=1.0, delay=work_s).with_id(f"s{index}")
    return Pipeline("deep", root, [node])


def diamond(root: str) -> Pipeline:
    g = generate(count=10)
    a = scale(numbers=g.outputs["numbers"], factor=2.0).with_id("a")
    b = scale(numbers=g.outputs["numbers"], factor=3.0).with_id("b")
    return Pipeline("diamond", root, [combine(left=a.outputs["scaled"], right=b.outputs["scaled"])])


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_of(fn: Callable[[], object], repeat: int) -> float:
    """Median of ``repeat`` timings after one untimed call (first-call imports and cold file caches)."""
    fn()
    return statistics.median(timed(fn) for _ in range(repeat))


def median_command(command: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    return median_of(lambda: subprocess.run(command, check=True, capture_output=True, env=env), repeat)


def cold_pair(build: Callable[..., Pipeline], repeat: int, work_s: float = 0.0) -> tuple[float, float]:
    """Median first-run times of a pipeline on the local and the Beam runner, each in a fresh root,
    interleaved so both see the same machine load."""
    local, beam = [], []
    for _ in range(repeat):
        for runner, times in ((LocalDagRunner(QUIET), local), (BeamDagRunner(QUIET), beam)):
            with tempfile.TemporaryDirectory() as root:
                times.append(timed(lambda: runner.run(build(root, work_s)).raise_for_failure()))  # noqa: B023
    return statistics.median(local), statistics.median(beam)


def runner_rows(repeat: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as root:
        BeamDagRunner(QUIET).run(Pipeline("warm", root, [generate()]))  # pay Beam's one-off import before timing
    rows: list[Row] = []
    for label, build, work in (
        ("100 wide (1 -> 99), no work", wide, 0.0),
        ("100 wide (1 -> 99), 20 ms work each", wide, 0.02),
        ("100 deep (chain), no work", deep, 0.0),
        ("10 nodes, 8 x 1 s work", ten_nodes, 1.0),
    ):
        local, beam = cold_pair(build, 1 if work >= 1.0 else repeat, work)
        rows.append((f"{label}: BeamDagRunner, first run", beam, "same on LocalDagRunner", local))
    return rows


def cached_rows(repeat: int, history: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as root:
        first = timed(lambda: LocalDagRunner(QUIET).run(ten_nodes(root)).raise_for_failure())
        cached_local = median_of(lambda: LocalDagRunner(QUIET).run(ten_nodes(root)), repeat)
        cached_beam = median_of(lambda: BeamDagRunner(QUIET).run(ten_nodes(root)), repeat)
        for _ in range(history):
            LocalDagRunner(QUIET).run(ten_nodes(root))
        after_history = median_of(lambda: LocalDagRunner(QUIET).run(ten_nodes(root)), repeat)
    return [
        ("10-node cached rerun, LocalDagRunner", cached_local, "first run (local)", first),
        ("10-node cached rerun, BeamDagRunner", cached_beam, "first run (local)", first),
        (f"same (local), after {history} more runs", after_history, "cached rerun (local) above", cached_local),
    ]


def lineage_rows(repeat: int, history: int) -> list[Row]:
    """Lineage of the diamond's last output (up) and first output (down), in-process and through
    the CLI, after 1 run and after ``history`` more (cached) runs of the same pipeline."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as root:
        result = LocalDagRunner(QUIET).run(diamond(root))
        total, numbers = result.output("combine", "total").id, result.output("generate", "numbers").id
        store_path = os.path.join(root, "metadata.sqlite")
        cli = [sys.executable, "-m", "pipelinekit", "lineage", "--metadata", store_path]

        def measure() -> dict[str, float]:
            store = MetadataStore(diamond(root).metadata)
            return {
                "up": median_of(lambda: upstream(store, total), max(repeat, 5)),  # type: ignore[arg-type]
                "down": median_of(lambda: downstream(store, numbers), max(repeat, 5)),  # type: ignore[arg-type]
                "cli up": median_command([*cli, str(total)], repeat),
                "cli down": median_command([*cli, str(numbers), "--downstream"], repeat),
            }

        after_one = measure()
        for _ in range(history):
            LocalDagRunner(QUIET).run(diamond(root))
        after_many = measure()
    for key, label in (("up", "lineage upstream"), ("down", "lineage downstream")):
        rows.append((f"{label}, after {history + 1} runs", after_many[key], "same after 1 run", after_one[key]))
    for key, label in (("cli up", "`pipelinekit lineage`"), ("cli down", "`pipelinekit lineage --downstream`")):
        rows.append((f"{label}, after {history + 1} runs", after_many[key], "same after 1 run", after_one[key]))
    return rows


def cli_rows(repeat: int, bare: float) -> list[Row]:
    """``pipelinekit run`` of an already-run pipeline: what a user waits for a fully cached rerun."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, "bench_pipeline.py")
        with open(path, "w") as handle:
            handle.write(f"import sys\nsys.path.insert(0, {HERE!r})\nfrom core_bench import ten_nodes\npipeline = ten_nodes({root!r})\n")
        command = [sys.executable, "-m", "pipelinekit", "run", path]
        subprocess.run(command, check=True, capture_output=True)
        rows.append(("10-node cached rerun, `pipelinekit run`", median_command(command, repeat), "empty python start-up", bare))
    with tempfile.TemporaryDirectory() as root:
        env = {**os.environ, "PIPELINE_ROOT": os.path.join(root, "demo_root")}
        command = [sys.executable, "-m", "pipelinekit", "run", os.path.join(REPO, "examples", "demo", "pipeline.py")]
        first = timed(lambda: subprocess.run(command, check=True, capture_output=True, env=env))
        cached = median_command(command, repeat, env)
        rows.append(("examples/demo cached rerun, `pipelinekit run`", cached, "empty python start-up", bare))
        rows.append(("examples/demo first run, `pipelinekit run`", first, "its cached rerun", cached))
    return rows


def print_table(rows: list[Row], repeat: int) -> None:
    print(f"{'measure':<58} {'seconds':>8}   {'reference':<28} {'seconds':>8} {'ratio':>7}")
    for name, value, reference, ref_value in rows:
        ratio = f"{value / ref_value:6.2f}x" if ref_value else "-"
        ref_text = f"{ref_value:8.4f}" if ref_value else "-"
        print(f"{name:<58} {value:8.4f}   {reference:<28} {ref_text:>8} {ratio:>7}")
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {repeat} runs; machine is shared and noisy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timings per figure (default 5; 2 with --quick)")
    parser.add_argument("--history", type=int, default=999, help="extra runs before the history rows (default 999)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and 150 runs of history: a few minutes")
    args = parser.parse_args()
    repeat = 2 if args.quick and args.repeat == 5 else args.repeat
    history = 150 if args.quick and args.history == 999 else args.history

    bare = median_command([sys.executable, "-c", "pass"], repeat)
    rows: list[Row] = [
        ("import pipelinekit (process start-up incl.)", median_command([sys.executable, "-c", "import pipelinekit"], repeat),
         "empty python start-up", bare),
        ("import apache_beam (once per process on Beam)", median_command([sys.executable, "-W", "ignore", "-c", "import apache_beam"], 1),
         "empty python start-up", bare),
    ]
    with tempfile.TemporaryDirectory() as root:
        compile_times = [timed(lambda: compile_pipeline(ten_nodes(root))) for _ in range(20)]
        rows.append(("define + compile 10-node pipeline", statistics.median(compile_times), "-", 0.0))
    rows += cached_rows(repeat, history)
    rows += cli_rows(repeat, bare)
    rows += runner_rows(repeat)
    rows += lineage_rows(repeat, history)
    print_table(rows, repeat)


if __name__ == "__main__":
    main()
