"""The subcommands of the ``pipelinekit`` CLI; each takes parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelinekit.compile.compiler import compile_pipeline
from pipelinekit.dsl.loader import load_pipeline
from pipelinekit.dsl.metadata_config import MetadataConfig, sqlite_metadata
from pipelinekit.dsl.node import did_you_mean
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.errors import DefinitionError
from pipelinekit.metadata.lineage import downstream, latest_output, render, upstream
from pipelinekit.metadata.store import MetadataStore
from pipelinekit.orchestration.result import FAILED, RunResult

__all__ = ["check_command", "run_command", "runs_command", "lineage_command", "runtime_values"]

out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, highlight=False)


def check_command(args: argparse.Namespace) -> int:
    """Compile a pipeline file and show its plan, without running anything."""
    started = time.perf_counter()
    plan = compile_pipeline(load_pipeline(args.file), runtime_values(args.runtime_parameter))
    out.print(
        f"pipeline [bold]{plan.pipeline_name}[/]: {len(plan.nodes)} nodes, compiled in {time.perf_counter() - started:.3f}s"
    )
    for index, layer in enumerate(plan.layers):
        out.print(f"  layer {index}: {', '.join(layer)}", markup=False)
    return 0


def run_command(args: argparse.Namespace) -> int:
    """Run a pipeline file with the Beam (default) or local runner, showing progress per node."""
    from pipelinekit.cli.progress import LiveProgress
    from pipelinekit.orchestration.beam_runner import BeamDagRunner
    from pipelinekit.orchestration.local_runner import LocalDagRunner

    pipeline = load_pipeline(args.file)
    if args.no_cache:
        pipeline.enable_cache = False
    pipeline.beam_pipeline_args.extend(args.beam_arg or [])
    if args.pin_span:
        from pipelinekit.cli.pin_spans import pin_spans

        pin_spans(pipeline, args.pin_span)
    plan = compile_pipeline(pipeline, runtime_values(args.runtime_parameter))
    with LiveProgress(plan.order, err) as progress:
        runner = LocalDagRunner(progress) if args.runner == "local" else BeamDagRunner(progress, max_parallel=args.max_parallel)
        result = runner.run(plan)
    from pipelinekit.cli.pin_spans import record_pipeline_file

    record_pipeline_file(plan, result.run_id, args.file)
    _report(result)
    return 0 if result.succeeded else 1


def runtime_values(pairs: list[tuple[str, str]] | None) -> dict[str, str]:
    """The ``--runtime-parameter NAME=VALUE`` flags as ``{NAME: VALUE}``; the compiler converts
    each text to its RuntimeParameter's ptype and reports a bad value or an unknown name."""
    values: dict[str, str] = {}
    for name, value in pairs or []:
        if name in values and values[name] != value:
            raise DefinitionError(f"--runtime-parameter {name} is given twice ({values[name]!r} and {value!r}); give it once")
        values[name] = value
    return values


def _report(result: RunResult) -> None:
    counts = result.summary()
    line = ", ".join(f"{counts[k]} {k}" for k in ("ran", "cached", "failed", "skipped") if counts[k])
    style = "green" if result.succeeded else "red"
    err.print(f"[{style}]run {result.run_id} {result.status}[/] in {result.duration:.2f}s: {line}")
    for node_id in result.nodes_with(FAILED):
        failed = result.nodes[node_id]
        err.print(Text.assemble("\n", (str(failed.error), "bold red"), "\n", failed.user_traceback))
    if not result.succeeded:
        err.print("Fix the failure and run again: the nodes that finished are cached.")


def _store_and_name(args: argparse.Namespace) -> tuple[MetadataStore, str]:
    if args.file:
        pipeline = load_pipeline(args.file)
        config = pipeline.metadata
        if config.kind == "sqlite" and not os.path.exists(config.path):
            raise DefinitionError(
                f"pipeline {pipeline.pipeline_name!r} has not run yet: there is no store at {config.path}; "
                f"run it first with: pipelinekit run {args.file}"
            )
        return MetadataStore(config), pipeline.pipeline_name
    if not args.metadata:
        raise DefinitionError("name a pipeline file, or a store with --metadata PATH (its metadata.sqlite)")
    if not os.path.exists(args.metadata):
        raise DefinitionError(f"metadata store {args.metadata} does not exist")
    store = MetadataStore(_sqlite(args.metadata))
    names = store.pipeline_names()
    if args.pipeline_name:
        return store, args.pipeline_name
    if len(names) != 1:
        raise DefinitionError(f"store {args.metadata} holds pipelines {names}; choose one with --pipeline-name")
    return store, names[0]


def _sqlite(path: str) -> MetadataConfig:
    return sqlite_metadata(os.path.abspath(path))


def runs_command(args: argparse.Namespace) -> int:
    """List a pipeline's runs, newest first, with status, duration and node counts
    (``runs compare RUN RUN...``: see :func:`pipelinekit.cli.models.compare_runs_command`)."""
    if args.file == "compare":
        from pipelinekit.cli.models import compare_runs_command

        return compare_runs_command(args)
    if args.run_ids:
        raise DefinitionError(f"runs takes one pipeline file, got {[args.file, *args.run_ids]}; to compare runs: runs compare RUN RUN")
    store, name = _store_and_name(args)
    table = Table(title=f"runs of {name}")
    for column in ("run", "status", "started", "duration", "ran", "cached", "failed", "skipped", "problem"):
        table.add_column(column, no_wrap=True)
    for run in store.runs(name)[: args.limit]:
        p = run.properties
        started = datetime.fromtimestamp(p.get("started_at", 0)).strftime("%Y-%m-%d %H:%M:%S")
        duration = f"{p['finished_at'] - p['started_at']:.2f}s" if "finished_at" in p else "-"
        counts = [str(p.get(k, "-")) for k in ("ran", "cached", "failed", "skipped")]
        problem = p.get("failed_nodes") or p.get("error", "")
        table.add_row(run.run_id, p.get("status", "?"), started, duration, *counts, Text(problem[:60]))
    out.print(table)
    return 0


def _check_output_name(pipeline: Pipeline, node_id: str, key: str) -> None:
    """A mistyped NODE.OUTPUT gets a "did you mean" from the pipeline's own nodes and outputs."""
    nodes = {node.id: node for node in pipeline.all_nodes()}
    if node_id not in nodes:
        raise DefinitionError(
            f"pipeline {pipeline.pipeline_name!r} has no node {node_id!r}{did_you_mean(node_id, list(nodes))}; "
            f"its nodes: {', '.join(sorted(nodes))}"
        )
    outputs = list(nodes[node_id].outputs)
    if key not in outputs:
        raise DefinitionError(f"node {node_id!r} has no output {key!r}{did_you_mean(key, outputs)}; its outputs: {', '.join(outputs)}")


def lineage_command(args: argparse.Namespace) -> int:
    """Print where an artifact came from (or, with --downstream, what used it)."""
    store, name = _store_and_name(args)
    if args.artifact.isdigit():
        artifact_id = int(args.artifact)
    else:
        node_id, _, key = args.artifact.rpartition(".")
        if not node_id:
            raise DefinitionError(f"artifact {args.artifact!r}: give an artifact id or NODE.OUTPUT, e.g. trainer.model")
        if args.file:
            _check_output_name(load_pipeline(args.file), node_id, key)
        artifact_id = latest_output(store, name, node_id, key).id  # type: ignore[assignment]
    direction = "downstream" if args.downstream else "upstream"
    step = (downstream if args.downstream else upstream)(store, artifact_id)
    out.print(render(step, direction), markup=False)
    return 0
