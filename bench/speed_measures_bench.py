"""Speed-measure benchmark: each measure of docs/ARCHITECTURE.md's list that can be switched off,
measured on the penguin node it is for, with and without it, in the same run.

    .venv/bin/python bench/speed_measures_bench.py [--repeat 2] [--root EXISTING_PENGUIN_ROOT]

It runs the penguin pipeline once (cold, through ``pipelinekit run``) unless ``--root`` names a
finished one, then replays single nodes on the inputs that run recorded, each replay in a fresh
process: once with the measure switched off, once with it on, alternating, ``--repeat`` times.
A replay reports the executor call's wall time and the process's CPU time (user + system) over
that call; on a shared machine the CPU time is the steadier of the two. Medians are printed as
one markdown table with the load average, the off/on ratio in the last column.

- cloudpickle (``dsl/beam_pickling.py``): off is ``--pickle_library=dill``, Beam's default;
  replayed on Transform, Evaluator and BulkInferrer.
- AutoGraph leaves tf.Transform alone (``components/util/autograph_rules.py``): off keeps only
  the tf_keras rule; replayed on the Trainer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

from pipeline_bench import PENGUIN, REPO, load_average, timed

REPLAY = r"""
import json, os, resource, sys, tempfile, time
root, node_id, beam_args, tft_rule = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "on"
os.environ["PENGUIN_ROOT"] = root
import pipelinekit
import pipelinekit.components.util.autograph_rules as rules
from pipelinekit.dsl.loader import load_pipeline
from pipelinekit.orchestration.replay import prepare_replay

if not tft_rule:
    rules.GRAPH_SAFE_LIBRARIES = tuple(r for r in rules.GRAPH_SAFE_LIBRARIES if r != "tensorflow_transform")
plan = pipelinekit.compile_pipeline(load_pipeline(sys.argv[5]))
folder = tempfile.mkdtemp(prefix=f"replay_{node_id}_")
replay = prepare_replay(plan, node_id, folder, beam_args=[*plan.beam_pipeline_args, *beam_args])
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
replay.run()
wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
print("REPLAY=" + json.dumps({"wall": wall, "cpu": cpu}))
sys.stdout.flush()
os._exit(0)
"""

# (measure, node, off: (extra beam args, TFT rule), on: ...)
CASES = [
    ("cloudpickle for in-process Beam", "Transform", (["--pickle_library=dill"], "on"), ([], "on")),
    ("cloudpickle for in-process Beam", "Evaluator", (["--pickle_library=dill"], "on"), ([], "on")),
    ("cloudpickle for in-process Beam", "BulkInferrer", (["--pickle_library=dill"], "on"), ([], "on")),
    ("AutoGraph leaves tf.Transform alone", "Trainer", ([], "off"), ([], "on")),
]


def replay(root: str, node_id: str, beam_args: list[str], tft_rule: str) -> dict[str, float]:
    result = timed([sys.executable, "-c", REPLAY, root, node_id, json.dumps(beam_args), tft_rule, PENGUIN])
    line = result.stdout.rpartition("REPLAY=")[2].strip()
    if result.returncode != 0 or not line:
        raise SystemExit(f"replay of {node_id} failed: {result.failure()}")
    return json.loads(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="off/on pairs per case (default 2)")
    parser.add_argument("--root", help="a finished penguin pipeline root to replay from (default: run one cold)")
    parser.add_argument("--nodes", help="comma-separated nodes to replay (default: every case's)")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.nodes or c[1] in args.nodes.split(",")]
    loads = [load_average()]
    root = args.root
    if root is None:
        root = os.path.join(tempfile.mkdtemp(prefix="speed_measures_"), "penguin_root")
        cold = timed([sys.executable, "-m", "pipelinekit", "run", PENGUIN], cwd=REPO, env={"PENGUIN_ROOT": root})
        if cold.returncode != 0:
            raise SystemExit(f"the penguin run failed: {cold.failure()}")
        print(f"penguin cold run: {cold.seconds:.1f} s", file=sys.stderr, flush=True)
    print("| measure | node | CPU s off | CPU s on | wall s off | wall s on | CPU off / on |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for measure, node_id, off, on in cases:
        runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for _ in range(args.repeat):
            runs["off"].append(replay(root, node_id, *off))
            runs["on"].append(replay(root, node_id, *on))
        cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in runs.items()}
        wall = {k: statistics.median(r["wall"] for r in v) for k, v in runs.items()}
        print(
            f"| {measure} | {node_id} | {cpu['off']:.2f} | {cpu['on']:.2f} | {wall['off']:.2f} | {wall['on']:.2f} | "
            f"{cpu['off'] / cpu['on']:.2f}x |",
            flush=True,
        )
        loads.append(load_average())
    print(f"\nLoad average (1/5/15 min) at the start and after each case: {', '.join(loads)}; {os.cpu_count()} CPUs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
