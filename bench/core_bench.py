"""Core benchmarks: import cost, compile time, and a 10-node toy pipeline run, cached and parallel.

Prints a table. Each figure comes with a reference measured in the same run (an empty Python
start-up, the first run of the same pipeline, the serial runner), because this machine is noisy.
Usage: .venv/bin/python bench/core_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from pipelinekit import BeamDagRunner, LocalDagRunner, Pipeline, compile_pipeline

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples", "toy"))
from toy_components import combine, generate, scale  # noqa: E402


def ten_nodes(root: str, work_s: float = 0.0) -> Pipeline:
    """generate -> four branches of two scale steps -> combine of two branches: 10 nodes,
    four of them independent in each middle layer."""
    source = generate(count=1000)
    ends = []
    for branch in range(4):
        first = scale(numbers=source.outputs["numbers"], factor=branch + 1.0, delay=work_s).with_id(f"b{branch}_1")
        ends.append(scale(numbers=first.outputs["scaled"], factor=2.0, delay=work_s).with_id(f"b{branch}_2"))
    return Pipeline("bench10", root, [combine(left=ends[0].outputs["scaled"], right=ends[1].outputs["scaled"]), *ends])


def median_subprocess(code: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cli_cached_rerun(root: str, repeat: int) -> float:
    """Median wall time of ``pipelinekit run`` on an already-run 10-node pipeline: what a user waits."""
    path = os.path.join(root, "bench_pipeline.py")
    with open(path, "w") as handle:
        here = os.path.dirname(os.path.abspath(__file__))
        handle.write(
            f"import sys\nsys.path.insert(0, {here!r})\nfrom core_bench import ten_nodes\npipeline = ten_nodes({root!r})\n"
        )
    command = [sys.executable, "-m", "pipelinekit", "run", path]
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows: list[tuple[str, float, str, float]] = []

    bare = median_subprocess("pass", args.repeat)
    with_pk = median_subprocess("import pipelinekit", args.repeat)
    rows.append(("import pipelinekit (process start-up incl.)", with_pk, "empty python start-up", bare))

    with tempfile.TemporaryDirectory() as root:
        compile_times = [timed(lambda: compile_pipeline(ten_nodes(root))) for _ in range(max(20, args.repeat))]
        rows.append(("define + compile 10-node pipeline", statistics.median(compile_times), "-", 0.0))

        first = timed(lambda: LocalDagRunner().run(ten_nodes(root)).raise_for_failure())
        cached_local = statistics.median(timed(lambda: LocalDagRunner().run(ten_nodes(root))) for _ in range(args.repeat))
        cached_beam = statistics.median(timed(lambda: BeamDagRunner().run(ten_nodes(root))) for _ in range(args.repeat))
        rows.append(("10-node cached rerun, LocalDagRunner", cached_local, "first run (local)", first))
        rows.append(("10-node cached rerun, BeamDagRunner", cached_beam, "first run (local)", first))
        for _ in range(150):
            LocalDagRunner().run(ten_nodes(root))
        after_history = statistics.median(timed(lambda: LocalDagRunner().run(ten_nodes(root))) for _ in range(args.repeat))
        rows.append(("same, after 150 more runs in the store", after_history, "cached rerun (local) above", cached_local))

    with tempfile.TemporaryDirectory() as root:
        rows.append(
            ("10-node cached rerun, `pipelinekit run` CLI", cli_cached_rerun(root, args.repeat), "empty python start-up", bare)
        )

    with tempfile.TemporaryDirectory() as root:
        BeamDagRunner().run(Pipeline("warm", root, [generate()]))  # pay Beam's one-off import before timing
    work = 1.0
    with tempfile.TemporaryDirectory() as root:
        serial = timed(lambda: LocalDagRunner().run(ten_nodes(root, work)).raise_for_failure())
    with tempfile.TemporaryDirectory() as root:
        parallel = timed(lambda: BeamDagRunner().run(ten_nodes(root, work)).raise_for_failure())
    rows.append((f"10 nodes, 8 x {work}s work, BeamDagRunner", parallel, "same on LocalDagRunner (serial)", serial))

    print(f"{'measure':<46} {'seconds':>8}   {'reference':<34} {'seconds':>8} {'ratio':>7}")
    for name, value, reference, ref_value in rows:
        ratio = f"{value / ref_value:6.2f}x" if ref_value else "-"
        ref_text = f"{ref_value:8.4f}" if ref_value else "-"
        print(f"{name:<46} {value:8.4f}   {reference:<34} {ref_text:>8} {ratio:>7}")
    print(
        f"\npython {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {args.repeat} runs; machine is shared and noisy"
    )


if __name__ == "__main__":
    main()
