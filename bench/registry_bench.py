"""Benchmark of the model registry: rollback under load, and queries over a large store.

    .venv/bin/python bench/registry_bench.py [--runs 1000] [--moves 200] [--seconds 3] [--switches 5]

1. Rollback under load: ``pipelinekit serve`` (a separate process) serves half_plus_two versions
   and follows a registry (``--registry_metadata_path``); 8 gRPC clients call Predict on
   ``model@production`` without pause. ``--switches`` times it measures p99 for ``--seconds``,
   moves production (``Registry.rollback`` to version 1, then forward to 2, ...: each switch
   loads the version the last one unloaded), the seconds until every client answers with the new
   target, and p99 from the command until one second after the switch; it counts failed requests.
2. Scale: a store with ``--runs`` recorded runs (7 executions and 10 artifacts each, written
   through pipelinekit's metadata layer as tests/registry/registry_records.py does), every run
   a pushed version, and ``--moves`` alias moves. It times ``pipelinekit models history``,
   ``models show`` and ``runs compare`` in-process (after one warm-up call) and as a fresh
   ``pipelinekit`` process (imports included).

Client threads share this Python process; the numbers vary on busy machines (see ``uptime``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "tests", "registry"))

from label_load import LabelLoad  # noqa: E402
from registry_records import RunSpec, record_run  # noqa: E402

from pipelinekit.registry import PRODUCTION, Registry  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rollback_under_load(folder: str, seconds: float, switches: int) -> dict[str, object]:
    """Serve two versions; ``switches`` times: ``seconds`` of load, then move production (a
    rollback to version 1, then a move back to version 2, ...) and wait for every client to see it."""
    registry = Registry.open_new(os.path.join(folder, "metadata.sqlite"))
    base = os.path.join(folder, "serving", "penguin")
    for number in (1, 2):
        record_run(registry.store, os.path.join(folder, "runs"), base, RunSpec(f"run-{number}", number))
    registry.move_alias("penguin", PRODUCTION, 1, "first release")
    registry.move_alias("penguin", PRODUCTION, 2, "new version")
    port = _free_port()
    command = [sys.executable, "-m", "pipelinekit", "serve", "--model_name", "penguin", "--model_base_path", base,
               "--port", str(port), "--rest_api_port", "0", "--registry_metadata_path", registry.store.config.path,
               "--registry_poll_wait_seconds", "0.2"]  # fmt: skip
    with open(os.path.join(folder, "server.log"), "w") as log:
        server = subprocess.Popen(command, stderr=log)
        try:
            with LabelLoad(f"127.0.0.1:{port}", "penguin", PRODUCTION, clients=8) as load:
                load.wait_for_version(2, timeout_s=120)
                load.failures.clear()  # refused connections while the server started
                load.answers.clear()
                rows = [_switch(registry, load, seconds, to=1 if index % 2 == 0 else 2) for index in range(switches)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    ratios = sorted(row["p99_ratio"] for row in rows)
    return {
        "requests": len(load.answers),
        "failed_requests": len(load.failures),
        "median_p99_ratio": ratios[len(ratios) // 2],
        "max_seconds_to_switch": max(row["seconds_to_switch"] for row in rows),
        "switches": rows,
    }


def _switch(registry: Registry, load: LabelLoad, seconds: float, to: int) -> dict[str, float]:
    """p99 over ``seconds`` before the move and from the move until 1 s after every client saw it."""
    before_start = time.monotonic()
    time.sleep(seconds)
    moved = time.monotonic()
    if to == 1:
        registry.rollback("penguin", reason="benchmark")
    else:
        registry.move_alias("penguin", PRODUCTION, to, "benchmark: forward again")
    switch_s = load.wait_for_version(to, timeout_s=60)
    time.sleep(1.0)
    p99_before, p99_during = load.p99(before_start, moved), load.p99(moved, time.monotonic())
    return {
        "to": to,
        "p99_before_ms": 1000 * p99_before,
        "p99_during_ms": 1000 * p99_during,
        "p99_ratio": p99_during / p99_before,
        "seconds_to_switch": switch_s,
    }


def build_large_store(folder: str, runs: int, moves: int) -> tuple[str, dict[str, float]]:
    """Write the store in memory (/dev/shm: SQLite's fsync per transaction is most of the cost of
    writing), then copy it to ``folder`` on disk, where the queries run."""
    memory = tempfile.mkdtemp(dir="/dev/shm") if os.path.isdir("/dev/shm") else tempfile.mkdtemp()
    registry = Registry.open_new(os.path.join(memory, "metadata.sqlite"))
    base = os.path.join(memory, "serving", "penguin")
    started = time.perf_counter()
    for index in range(runs):
        spec = RunSpec(f"run-{index:05d}", 1000 + index, span=1 + index // 50, fingerprint=f"data-{index // 50}",
                       accuracy=0.8 + (index % 17) / 100, learning_rate=0.01 / (1 + index % 5))  # fmt: skip
        record_run(registry.store, os.path.join(memory, "runs"), base, spec)
    recorded = time.perf_counter() - started
    started = time.perf_counter()
    registry.sync()
    synced = time.perf_counter() - started
    for index in range(moves):
        alias = PRODUCTION if index % 2 == 0 else "staging"
        registry.move_alias("penguin", alias, 1000 + (index * 7) % runs, f"move {index}")
    os.makedirs(folder)
    path = shutil.copy(os.path.join(memory, "metadata.sqlite"), os.path.join(folder, "metadata.sqlite"))
    counts = {
        "runs": runs,
        "artifacts": len(registry.store.raw.get_artifacts()),
        "executions": len(registry.store.raw.get_executions()),
        "record_seconds": recorded,
        "register_versions_seconds": synced,
    }
    shutil.rmtree(memory)
    return path, counts


def _timed(call: Callable[[], int]) -> float:
    started = time.perf_counter()
    assert call() == 0
    return time.perf_counter() - started


def query_times(path: str, runs: int) -> dict[str, dict[str, float]]:
    from pipelinekit.cli import main

    queries = {
        "models history": ["models", "history", "penguin", "--metadata", path],
        "models show": ["models", "show", f"penguin@{1000 + runs // 2}", "--metadata", path],
        "runs compare": ["runs", "compare", "run-00001", f"run-{runs - 1:05d}", "--metadata", path],
    }
    results = {}
    with open(os.devnull, "w") as devnull:
        stdout = sys.stdout
        sys.stdout = devnull
        try:
            for name, argv in queries.items():
                _timed(lambda argv=argv: main(argv))  # warm-up: imports, caches
                in_process = min(_timed(lambda argv=argv: main(argv)) for _ in range(3))
                fresh = _timed(
                    lambda argv=argv: subprocess.run([sys.executable, "-m", "pipelinekit", *argv], stdout=devnull).returncode
                )
                results[name] = {"in_process_s": in_process, "fresh_process_s": fresh}
        finally:
            sys.stdout = stdout
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0, help="load before each switch")
    parser.add_argument("--switches", type=int, default=5, help="alias moves under load (rollback, forward, ...)")
    args = parser.parse_args()
    report: dict[str, object] = {"load": os.getloadavg()}
    with tempfile.TemporaryDirectory() as folder:
        report["rollback_under_load"] = rollback_under_load(os.path.join(folder, "serve"), args.seconds, args.switches)
        print(json.dumps(report, indent=2), flush=True)
        path, counts = build_large_store(os.path.join(folder, "large"), args.runs, args.moves)
        report["store"] = counts
        report["queries"] = query_times(path, args.runs)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
