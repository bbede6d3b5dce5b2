"""Pipeline benchmark: the penguin example end to end, TFX's own penguin files on pipelinekit,
start-up and compile, and the headline figures of the data and serving benchmarks, as ONE
markdown table in which every figure sits next to a reference measured in the same run.

    .venv/bin/python bench/pipeline_bench.py [--output docs/BENCHMARKS.md] [--only import,penguin,tfx,data,serving]

- penguin: examples/penguin/pipeline.py through ``pipelinekit run`` in a fresh process with
  PENGUIN_ROOT in a new temp folder: cold, an identical rerun, a third identical rerun, and a
  rerun with one Trainer hyperparameter changed (PENGUIN_TRAIN_STEPS). Per-node times and
  statuses come from ML Metadata (each execution's node_id, started_at and finished_at).
- tfx: TFX 1.16's penguin files ported by their imports (../shared/fixtures/tfx_penguin, copied
  into a temp HOME as its CHANGES.md says, or $TFX_PENGUIN_DIR), cold and two identical reruns
  as TFX documents (``python penguin_pipeline_local.py``), then a fourth through ``pipelinekit
  run``; skipped with a note when that folder is absent.
- import: ``import pipelinekit`` and ``pipelinekit check`` of the penguin pipeline against an
  empty Python start-up; loading and compiling that pipeline in-process.
- data / serving: bench/data_bench.py (--rows 100000) and bench/serving_bench.py (--seconds 1),
  with their figures read from what they print.

The machine (CPUs, RAM, Python and library versions) and the load average are printed too:
the timings mean little without them.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata as dist_metadata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PENGUIN = os.path.join(REPO, "examples", "penguin", "pipeline.py")
TFX_PENGUIN = os.environ.get("TFX_PENGUIN_DIR") or os.path.join(
    os.path.dirname(REPO), "shared", "fixtures", "tfx_penguin", "penguin"
)
TFX_PIPELINE_NAME = "penguin_local_keras"
DEFAULT_TRAIN_STEPS, CHANGED_TRAIN_STEPS = "200", "150"
SECTIONS = ("import", "penguin", "tfx", "data", "serving")
# PYTHONDONTWRITEBYTECODE is cleared: a user's Python keeps compiled modules (pip compiles what
# it installs); main() compiles this checkout's packages once before the first run, as pip would.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore", "PYTHONDONTWRITEBYTECODE": ""}
# Runs the CLI as the console script does (its fast exit included: cli/fast_exit.py, about 2 s of
# interpreter teardown skipped), and says whether TensorFlow was imported (a fully cached rerun
# must not).
CLI_PROBE = (
    "import sys; from pipelinekit.cli import main; from pipelinekit.cli.fast_exit import exit_after_flushing; "
    "code = main(sys.argv[1:]); print('TF_LOADED=' + str('tensorflow' in sys.modules)); exit_after_flushing(code)"
)


@dataclass
class Row:
    """One line of the table: a figure and its same-run reference; ``ratio`` is value / reference."""

    what: str
    value: str
    reference: str = ""
    reference_value: str = ""
    ratio: str = ""


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x" if reference > 0 else ""


def share(value: float, whole: float) -> str:
    return f"{100 * value / whole:.0f}%" if whole > 0 else ""


# Machine ---------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """CPU count, RAM, OS, Python and the versions of the stack, without importing it."""
    with open("/proc/meminfo") as handle:
        total_kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
    versions = {}
    for dist in (
        "tensorflow",
        "apache-beam",
        "tensorflow-data-validation",
        "tensorflow-transform",
        "tensorflow-model-analysis",
        "ml-metadata",
    ):
        try:
            versions[dist] = dist_metadata.version(dist)
        except dist_metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return {
        "CPUs": str(os.cpu_count()),
        "RAM": f"{total_kib / 2**20:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        **versions,
    }


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


# Running processes -----------------------------------------------------------------------------


@dataclass
class Timed:
    seconds: float
    returncode: int
    stdout: str
    stderr: str

    def failure(self) -> str:
        """The last meaningful stderr line, for a row that reports a failed step."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return f"failed (exit {self.returncode}): {lines[-1][:160] if lines else 'no output'}"


def timed(command: list[str], cwd: str = REPO, env: dict[str, str] | None = None, timeout: float = 1800) -> Timed:
    """Run ``command``, returning its wall time and output (never raises on a non-zero exit)."""
    start = time.perf_counter()
    full_env = {**os.environ, **QUIET_ENV, **(env or {})}
    try:
        out = subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        partial = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) else error.stdout or ""
        return Timed(time.perf_counter() - start, -1, partial, f"timed out after {timeout:.0f} s")
    return Timed(time.perf_counter() - start, out.returncode, out.stdout, out.stderr)


def median_wall(command: list[str], repeat: int) -> float:
    return statistics.median(timed(command).seconds for _ in range(repeat))


# Import and compile ----------------------------------------------------------------------------

COMPILE_PROBE = """
import json, sys, time
start = time.perf_counter()
import pipelinekit
imported = time.perf_counter()
from pipelinekit.dsl.loader import load_pipeline
plan = pipelinekit.compile_pipeline(load_pipeline(sys.argv[1]))
done = time.perf_counter()
print(json.dumps({"import": imported - start, "compile": done - imported, "nodes": len(plan.nodes), "tf": "tensorflow" in sys.modules}))
"""


def import_rows(repeat: int = 5) -> list[Row]:
    """Start-up and compile figures, medians of interleaved repeats."""
    bare, imported, check = [], [], []
    for _ in range(repeat):
        bare.append(timed([sys.executable, "-c", "pass"]).seconds)
        imported.append(timed([sys.executable, "-c", "import pipelinekit"]).seconds)
        check.append(timed([sys.executable, "-m", "pipelinekit", "check", PENGUIN]).seconds)
    probes = [json.loads(timed([sys.executable, "-c", COMPILE_PROBE, PENGUIN]).stdout) for _ in range(repeat)]
    bare_s, import_s, check_s = (statistics.median(x) for x in (bare, imported, check))
    in_import = statistics.median(p["import"] for p in probes)
    in_compile = statistics.median(p["compile"] for p in probes)
    tf = "imports TensorFlow" if any(p["tf"] for p in probes) else "no TensorFlow imported"
    return [
        Row("`python -c 'import pipelinekit'` (process wall)", seconds(import_s), "`python -c pass`", seconds(bare_s), ratio(import_s, bare_s)),
        Row(f"`pipelinekit check` of the penguin pipeline ({probes[0]['nodes']} nodes, process wall)", seconds(check_s),
            "`python -c pass`", seconds(bare_s), ratio(check_s, bare_s)),
        Row(f"load + compile the penguin pipeline, in-process after import ({tf})", seconds(in_compile),
            "`import pipelinekit`, in-process", seconds(in_import), ratio(in_compile, in_import)),
    ]  # fmt: skip


# Pipeline runs and their per-node times from ML Metadata ---------------------------------------


@dataclass
class NodeTime:
    node_id: str
    status: str  # ran or cached (from the execution state)
    started: float
    finished: float

    @property
    def seconds(self) -> float:
        return self.finished - self.started


@dataclass
class PipelineRun:
    label: str
    wall: float
    nodes: list[NodeTime]
    tf_loaded: str = ""
    error: str = ""
    pushed_versions: int = 0

    def node_span(self) -> float:
        """From the first node's start to the last node's end: the run without process start-up."""
        return max(n.finished for n in self.nodes) - min(n.started for n in self.nodes) if self.nodes else 0.0

    def ran(self) -> list[NodeTime]:
        return [n for n in self.nodes if n.status == "ran"]

    def summary(self) -> str:
        if self.error:
            return self.error
        cached = len(self.nodes) - len(self.ran())
        ran = ", ".join(f"{n.node_id} {n.seconds:.1f}" for n in sorted(self.ran(), key=lambda n: -n.seconds)) or "nothing"
        tf = {"True": "; TensorFlow imported", "False": "; TensorFlow not imported"}.get(self.tf_loaded, "")
        return f"ran {len(self.ran())} (s: {ran}), {cached} cached{tf}; {self.pushed_versions} pushed version(s) so far"


def node_times(metadata_path: str, pipeline_name: str) -> list[NodeTime]:
    """Per node of the pipeline's newest run: status and seconds, from its executions in MLMD."""
    from pipelinekit.dsl.metadata_config import sqlite_metadata
    from pipelinekit.metadata import MetadataStore
    from pipelinekit.metadata.store import PIPELINE_RUN

    store = MetadataStore(sqlite_metadata(metadata_path))
    newest = store.runs(pipeline_name)[0]
    records = store.executions_in_context(PIPELINE_RUN, newest.context_name, limit=1000)
    times = []
    for record in sorted(records, key=lambda r: r.properties.get("started_at", 0.0)):
        started = float(record.properties.get("started_at") or 0.0)
        finished = float(record.properties.get("finished_at") or started)
        status = {"COMPLETE": "ran", "CACHED": "cached"}.get(record.state, record.state.lower())
        times.append(NodeTime(record.node_id, status, started, finished))
    return times


def run_pipeline(
    label: str, command: list[str], cwd: str, env: dict[str, str], store: tuple[str, str], serving_dir: str
) -> PipelineRun:
    """One run in a fresh process, its wall time, its per-node times read back from MLMD (``store``
    is the metadata path and the pipeline name), and how many model versions are pushed by now."""
    result = timed(command, cwd=cwd, env=env)
    tf_loaded = result.stdout.rpartition("TF_LOADED=")[2].strip()
    nodes = node_times(*store) if os.path.exists(store[0]) else []
    error = result.failure() if result.returncode != 0 else ""
    pushed = len([v for v in os.listdir(serving_dir) if v.isdigit()]) if os.path.isdir(serving_dir) else 0
    return PipelineRun(label, result.seconds, nodes, tf_loaded, error, pushed)


def penguin_runs(work: str) -> list[PipelineRun]:
    """Our penguin example: cold, two identical reruns, and a rerun with fewer training steps."""
    root = os.path.join(work, "penguin_root")
    command = [sys.executable, "-c", CLI_PROBE, "run", PENGUIN]
    plan = [
        ("cold", DEFAULT_TRAIN_STEPS),
        ("identical rerun (2nd)", DEFAULT_TRAIN_STEPS),
        ("identical rerun (3rd)", DEFAULT_TRAIN_STEPS),
        (f"rerun, Trainer train_steps {DEFAULT_TRAIN_STEPS} -> {CHANGED_TRAIN_STEPS}", CHANGED_TRAIN_STEPS),
    ]
    runs = []
    for label, steps in plan:
        env = {"PENGUIN_ROOT": root, "PENGUIN_TRAIN_STEPS": steps}
        store = (os.path.join(root, "metadata.sqlite"), "penguin")
        runs.append(run_pipeline(label, command, REPO, env, store, os.path.join(root, "serving_model", "penguin")))
        print(f"penguin {label}: {runs[-1].wall:.1f} s, {runs[-1].summary()}", file=sys.stderr, flush=True)
    return runs


def tfx_runs(work: str) -> list[PipelineRun]:
    """TFX's ported penguin files, run as TFX documents (HOME holding penguin/, ``python
    penguin_pipeline_local.py`` from there), then once more through ``pipelinekit run``: the file
    imports TFMA (so TensorFlow) before any pipelinekit line when Python runs it; the CLI defers that."""
    home = os.path.join(work, "tfx_home")
    folder = os.path.join(home, "penguin")
    shutil.copytree(TFX_PENGUIN, folder)
    metadata_path = os.path.join(home, "tfx", "metadata", TFX_PIPELINE_NAME, "metadata.db")
    as_documented = [sys.executable, "penguin_pipeline_local.py"]
    plan = [
        ("cold", as_documented),
        ("identical rerun (2nd)", as_documented),
        ("identical rerun (3rd)", as_documented),
        (
            "identical rerun (4th), through `pipelinekit run`",
            [sys.executable, "-c", CLI_PROBE, "run", "penguin_pipeline_local.py"],
        ),
    ]
    runs = []
    for label, command in plan:
        store = (metadata_path, TFX_PIPELINE_NAME)
        runs.append(
            run_pipeline(label, command, folder, {"HOME": home}, store, os.path.join(folder, "serving_model", TFX_PIPELINE_NAME))
        )
        print(f"tfx penguin {label}: {runs[-1].wall:.1f} s, {runs[-1].summary()}", file=sys.stderr, flush=True)
    return runs


def run_rows(
    name: str, runs: list[PipelineRun], cold_reference: tuple[str, float] | None = None, per_node: bool = True
) -> list[Row]:
    """Rows for the cold run (its parallelism, its start-up overhead, optionally each node's share
    of it), then one row per rerun against the cold run."""
    cold = runs[0]
    if cold.error or not cold.nodes:
        return [Row(f"{name}: cold", cold.error or "no executions recorded")]
    serial, span = sum(n.seconds for n in cold.nodes), cold.node_span()
    wall = f"{name}: cold (process wall)"
    rows = [
        Row(f"{name}: cold, {len(cold.nodes)} nodes, first node start to last node end", seconds(span),
            "sum of the node times (serial)", seconds(serial), ratio(span, serial)),
        Row(f"{wall}, with start-up and imports", seconds(cold.wall), "first node start to last node end", seconds(span),
            ratio(cold.wall, span)),
    ]  # fmt: skip
    described = wall if per_node else f"{wall}: {cold.summary()}"
    if cold_reference:
        reference, reference_wall = cold_reference
        rows.append(Row(described, seconds(cold.wall), reference, seconds(reference_wall), ratio(cold.wall, reference_wall)))
    elif not per_node:
        rows.append(Row(described, seconds(cold.wall)))
    if per_node:
        rows.extend(node_rows(name, cold))
    for run in runs[1:]:
        rows.append(
            Row(f"{name}: {run.label}: {run.summary()}", seconds(run.wall), wall, seconds(cold.wall), ratio(run.wall, cold.wall))
        )
    return rows


def node_rows(name: str, run: PipelineRun) -> list[Row]:
    """A row per node taking at least 1% of the run's wall time, and one for all the others."""
    big = [n for n in sorted(run.nodes, key=lambda n: -n.seconds) if n.seconds >= 0.01 * run.wall]
    small = [n for n in run.nodes if n not in big]
    rows = [
        Row(f"{name}: cold, node {n.node_id}", seconds(n.seconds), f"{name}: cold (process wall)", seconds(run.wall),
            share(n.seconds, run.wall))
        for n in big
    ]  # fmt: skip
    if small:
        total = sum(n.seconds for n in small)
        names = ", ".join(n.node_id for n in small)
        rows.append(Row(f"{name}: cold, the other {len(small)} nodes ({names})", seconds(total), f"{name}: cold (process wall)",
                        seconds(run.wall), share(total, run.wall)))  # fmt: skip
    return rows


# The other benches -----------------------------------------------------------------------------


def data_rows() -> list[Row]:
    """bench/data_bench.py on 100,000 rows: each component against the library called directly."""
    result = timed([sys.executable, os.path.join(REPO, "bench", "data_bench.py"), "--rows", "100000"])
    if result.returncode != 0:
        return [Row("data bench (100,000 rows)", result.failure())]
    lines = [line.split(" | ") for line in result.stdout.splitlines() if " | " in line]
    header, rows = lines[0], []
    for cells in lines[1:]:
        row = dict(zip(header, cells, strict=False))
        try:
            mine, ref = float(row["s"]), float(row["ref s"])
        except (KeyError, ValueError):
            continue
        rows.append(Row(f"{row['component']} on {row['rows']} taxi-like rows (data_bench)", seconds(mine), row["reference"], seconds(ref),
                        ratio(mine, ref)))  # fmt: skip
    return rows or [Row("data bench (100,000 rows)", f"no figures found in its output: {result.stdout[-200:]!r}")]


SERVING_LINE = re.compile(r"^(\S+)\s+(.+?)\s+clients=(\d+):\s+([\d.]+) req/s", re.MULTILINE)


def serving_rows() -> list[Row]:
    """bench/serving_bench.py for 1 s per point: the penguin-size model's requests per second over
    gRPC and REST against its in-process call with the same number of clients."""
    result = timed([sys.executable, os.path.join(REPO, "bench", "serving_bench.py"), "--seconds", "1"])
    if result.returncode != 0:
        return [Row("serving bench", result.failure())]
    rps = {(m.group(1), m.group(2).strip(), int(m.group(3))): float(m.group(4)) for m in SERVING_LINE.finditer(result.stdout)}
    rows = []
    for (model, transport, clients), value in rps.items():
        floor = rps.get((model, "in-process", clients))
        if model == "penguin" and transport in ("gRPC", "REST") and floor:
            rows.append(Row(f"{model} via {transport}, {clients} client(s) (serving_bench)", f"{value:,.0f} req/s",
                            "in-process call of the same model", f"{floor:,.0f} req/s", ratio(value, floor)))  # fmt: skip
    return rows or [Row("serving bench", f"no figures found in its output: {result.stdout[-200:]!r}")]


# Output ----------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = ["| figure | value | reference (same run) | reference value | value / reference |", "|---|---:|---|---:|---:|"]
    for row in rows:
        cells = (row.what, row.value, row.reference, row.reference_value, row.ratio)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def document(rows: list[Row], facts: dict[str, str], loads: list[str], elapsed: float, note: str) -> str:
    """docs/BENCHMARKS.md: how to rerun, the machine and its load, how to read it, and the table."""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine_line = ", ".join(f"{k} {v}" for k, v in facts.items())
    conditions = f"\n- Conditions: {note}" if note else ""
    return f"""# Benchmarks

This page is written by `bench/pipeline_bench.py`; to refresh it, run

    .venv/bin/python bench/pipeline_bench.py --output docs/BENCHMARKS.md --note "what else ran on the machine"

(`--only import,penguin,tfx,data,serving` picks sections). It took {elapsed:.0f} s here. Every
figure sits next to a reference measured in the same run on the same machine, and the last column
is value / reference, so the comparison holds even when the machine is slow or busy. For seconds,
lower is better; for requests per second, higher is better. bench/core_bench.py,
bench/data_bench.py and bench/serving_bench.py give the details behind their rows.

- Finished: {when}.
- Machine: {machine_line}.
- Load average (1/5/15 min) at the start, after each section, and at the end: {", ".join(loads)}.{conditions}

How to read the pipeline rows. Each penguin run is `pipelinekit run examples/penguin/pipeline.py`
in a fresh process on a fresh pipeline root (PENGUIN_ROOT); "process wall" includes Python start-up
and the imports, "first node start to last node end" does not. Per-node times are the
`finished_at - started_at` of each execution in ML Metadata; "ran" lists the nodes that executed
(a resolver always runs, in milliseconds), the rest were served from the cache. The targets
(issue 11, on 2 cores): our penguin cold under 30 s; the 2nd identical run reruns only the
Evaluator and what follows it; the 3rd identical run is fully cached, under 3 s, without importing
TensorFlow; after a Trainer hyperparameter change only the Trainer and what follows it run; TFX's
ported files under 40 s cold and under 15 s when fully cached. Issue 20 raised them to: our
penguin cold at most 15 s, the Trainer-change rerun at most 8 s, TFX's ported files fully cached
at most 2 s. TFX 1.16 itself took about 80 s cold and 60 s per identical rerun on this machine
(measured once when issue 11 was filed, not in this run). The rows against
`python -c 'import tensorflow'` state each run that imports TensorFlow in bare TensorFlow imports,
measured just before the runs: the shared machine's speed changes from day to day, and that
ratio compares across days where seconds do not.

{table(rows)}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--output", help="also write the page (e.g. docs/BENCHMARKS.md) with the table, the machine and how to rerun"
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections (default: all of {','.join(SECTIONS)})"
    )
    parser.add_argument("--note", default="", help="a line about the conditions (e.g. other work on the machine) for the page")
    args = parser.parse_args()
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    facts, loads, rows = machine(), [load_average()], []
    compileall.compile_dir(os.path.join(REPO, "pipelinekit"), quiet=1)
    compileall.compile_dir(os.path.join(REPO, "components"), quiet=1)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as work:
        rows = collect(wanted, work, loads)
    elapsed = time.perf_counter() - start
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()) + f"; load average {' -> '.join(loads)}")
    print(table(rows))
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(document(rows, facts, loads, elapsed, args.note))
    return 0


def collect(wanted: list[str], work: str, loads: list[str]) -> list[Row]:
    """Run the wanted sections in order (the TFX rows compare with our penguin's cold run),
    noting the load average after each."""
    rows: list[Row] = []
    penguin: list[PipelineRun] = []
    for section in [s for s in SECTIONS if s in wanted]:
        if section == "import":
            rows.extend(import_rows())
        elif section == "penguin":
            tf_import = tensorflow_import_seconds()
            penguin = penguin_runs(work)
            rows.extend(run_rows("penguin (ours)", penguin))
            rows.extend(in_tensorflow_imports("penguin (ours)", penguin, tf_import))
        elif section == "tfx":
            rows.extend(tfx_section(work, penguin))
        elif section == "data":
            rows.extend(data_rows())
        else:
            rows.extend(serving_rows())
        loads.append(load_average())
    return rows


def tensorflow_import_seconds(repeat: int = 3) -> float:
    """The median process wall of ``python -c 'import tensorflow'``: the floor of any run that
    trains, and a yardstick that moves with the machine's speed from day to day."""
    return statistics.median(timed([sys.executable, "-c", "import tensorflow"]).seconds for _ in range(repeat))


def in_tensorflow_imports(name: str, runs: list[PipelineRun], tf_import: float) -> list[Row]:
    """The runs that import TensorFlow, each against a bare TensorFlow import measured just before
    them, so that figures from different days compare even when the machine's speed does not."""
    reference = "`python -c 'import tensorflow'` (process wall, median of 3)"
    return [
        Row(f"{name}: {run.label} (process wall)", seconds(run.wall), reference, seconds(tf_import), ratio(run.wall, tf_import))
        for run in runs
        if not run.error and run.tf_loaded != "False"
    ]


def tfx_section(work: str, penguin: list[PipelineRun]) -> list[Row]:
    if not os.path.isdir(TFX_PENGUIN):
        return [
            Row("TFX's penguin files, ported", f"skipped: {TFX_PENGUIN} is absent (it is a local fixture, not in the repository)")
        ]
    reference = ("penguin (ours): cold (process wall)", penguin[0].wall) if penguin and not penguin[0].error else None
    return run_rows("TFX penguin, ported", tfx_runs(work), reference, per_node=False)


if __name__ == "__main__":
    sys.exit(main())
