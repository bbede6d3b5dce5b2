"""The options of the orchestrator's own Beam pipeline (``beam_orchestrator_args``, ``max_parallel``).

That pipeline runs the nodes in this process, on Beam's DirectRunner in multi-threading mode,
so only three Beam options mean anything to it: ``--runner`` (DirectRunner), ``--direct_running_mode``
(multi_threading) and ``--direct_num_workers``. Anything else is rejected with the reason and
where it belongs instead, never silently dropped. Beam is imported only to explain a rejection.
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from pipelinekit.errors import DefinitionError

__all__ = ["OrchestratorOptions", "parse_orchestrator_options", "default_workers"]

_USED = "--runner=DirectRunner, --direct_running_mode=multi_threading and --direct_num_workers=N"
_FOR_EXECUTORS = (
    "to send it to the executors' own Beam pipelines, put it in the pipeline's beam_pipeline_args "
    "(`pipelinekit run --beam-arg=...`)"
)


def default_workers() -> int:
    """The machine's cores, but at least two, so independent branches always overlap."""
    return max(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class OrchestratorOptions:
    """What the orchestrator's Beam pipeline uses: at most ``max_workers`` nodes at once
    (``None``: one per core, see :func:`default_workers`)."""

    max_workers: int | None = None

    def workers(self, max_concurrency: int) -> int:
        """Workers for a run in which at most ``max_concurrency`` nodes can ever run at once."""
        return max(1, min(self.max_workers or default_workers(), max_concurrency))

    def beam_args(self, workers: int) -> list[str]:
        """The complete option list handed to Beam: nothing reaches it unchecked."""
        return ["--direct_running_mode=multi_threading", f"--direct_num_workers={workers}"]

    def describe(self, node_count: int, workers: int) -> str:
        """One line saying what the orchestrator's pipeline uses, for the run log."""
        limit = f"limit {self.max_workers}" if self.max_workers else f"limit: {os.cpu_count()} cores, at least 2"
        return f"{node_count} nodes on Beam's DirectRunner (multi_threading), {workers} at a time ({limit})"


class _Parser(argparse.ArgumentParser):
    """argparse that raises a DefinitionError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise DefinitionError(f"beam_orchestrator_args: {message}; the orchestrator uses only {_USED}")


def parse_orchestrator_options(args: Sequence[str], max_parallel: int | None) -> OrchestratorOptions:
    """Check ``beam_orchestrator_args`` and ``max_parallel`` together; every problem is reported at once."""
    if isinstance(args, str | bytes) or not all(isinstance(a, str) for a in args):
        raise DefinitionError(
            f"beam_orchestrator_args must be a list of strings such as ['--direct_num_workers=4'], got {args!r}"
        )
    if max_parallel is not None and (isinstance(max_parallel, bool) or not isinstance(max_parallel, int) or max_parallel < 1):
        raise DefinitionError(f"max_parallel must be a whole number of nodes, at least 1, got {max_parallel!r}")
    parser = _Parser(prog="beam_orchestrator_args", add_help=False, allow_abbrev=False)
    parser.add_argument("--runner")
    parser.add_argument("--direct_running_mode")
    parser.add_argument("--direct_num_workers", type=int)
    known, unknown = parser.parse_known_args(list(args))
    problems = _value_problems(known, max_parallel) + _unknown_problems(unknown)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise DefinitionError(f"beam_orchestrator_args {list(args)!r} cannot be used:\n{listed}")
    workers = max_parallel or known.direct_num_workers
    return OrchestratorOptions(workers or None)


def _value_problems(known: argparse.Namespace, max_parallel: int | None) -> list[str]:
    problems = []
    if known.runner is not None and known.runner.lower().removesuffix("runner") != "direct":
        problems.append(
            f"--runner={known.runner}: the orchestrator runs the nodes in this process on the DirectRunner; "
            f"only the executors' data work can run on {known.runner}: {_FOR_EXECUTORS}"
        )
    mode = known.direct_running_mode
    if mode == "in_memory":
        problems.append(
            "--direct_running_mode=in_memory runs one node at a time; for a serial run use max_parallel=1 "
            "(`--max-parallel 1`) or the LocalDagRunner (`--runner local`)"
        )
    elif mode == "multi_processing":
        problems.append(
            "--direct_running_mode=multi_processing: nodes must run in this process, which holds the run's "
            f"state and metadata store; {_FOR_EXECUTORS}"
        )
    elif mode not in (None, "multi_threading"):
        problems.append(f"--direct_running_mode={mode}: the orchestrator runs only in multi_threading mode")
    workers = known.direct_num_workers
    if workers is not None and workers < 0:
        problems.append(f"--direct_num_workers={workers}: give a number of workers, at least 1 (0: one per core)")
    elif workers and max_parallel and workers != max_parallel:
        problems.append(f"--direct_num_workers={workers} contradicts max_parallel={max_parallel}; give only one")
    return problems


def _unknown_problems(unknown: list[str]) -> list[str]:
    flags = [token.split("=", 1)[0] for token in unknown if token.startswith("-")]
    if not flags:
        return [f"{token!r} is not an option; write options as --name=value" for token in unknown]
    beam_flags = _beam_flags()
    problems = []
    for flag in flags:
        if flag in beam_flags:
            problems.append(f"{flag} is a Beam option the orchestrator does not use (it uses only {_USED}); {_FOR_EXECUTORS}")
        else:
            close = difflib.get_close_matches(flag, sorted(beam_flags), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(f"{flag} is not a Beam option{hint}")
    return problems


def _beam_flags() -> set[str]:
    """Every option string Beam's own PipelineOptions know, as Beam itself collects them."""
    from apache_beam.options import pipeline_options

    parser = pipeline_options._BeamArgumentParser(add_help=False)
    for options_class in {str(c): c for c in pipeline_options.PipelineOptions.__subclasses__()}.values():
        options_class._add_argparse_args(parser)
    return {flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")}
