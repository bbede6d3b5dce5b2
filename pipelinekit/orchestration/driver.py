"""What every runner does around its own scheduling: compile, open a RunSession, record a run
that stops early (Ctrl-C, a crash of the runner itself) as aborted, and sum up the result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipelinekit.compile.compiler import compile_pipeline
from pipelinekit.compile.plan import Plan
from pipelinekit.dsl.pipeline import Pipeline
from pipelinekit.dsl.script_pipeline import offer_to_loader
from pipelinekit.orchestration.listener import RunListener
from pipelinekit.orchestration.result import RunResult
from pipelinekit.orchestration.session import RunSession

__all__ = ["drive"]


def drive(
    pipeline: Pipeline | Plan,
    listener: RunListener | None,
    settle: Callable[[RunSession], None],
    runtime_parameters: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run ``settle(session)`` for a fresh session of ``pipeline`` and return the finished result.

    If it raises, the run is recorded as abandoned and the error goes on to the caller; a
    KeyboardInterrupt goes on as itself with the runner's internals cut from its traceback, so
    the caller (the CLI) can answer Ctrl-C with one short line. ``runtime_parameters`` gives the
    values of the pipeline's ``RuntimeParameter``s (a Plan has them already)."""
    offer_to_loader(pipeline)
    plan = pipeline if isinstance(pipeline, Plan) else compile_pipeline(pipeline, runtime_parameters)
    session = RunSession(plan, listener)
    try:
        settle(session)
    except KeyboardInterrupt as interrupt:
        session.abandon(interrupt)
        raise interrupt.with_traceback(None) from None
    except BaseException as error:
        session.abandon(error)
        raise
    return session.finish()
