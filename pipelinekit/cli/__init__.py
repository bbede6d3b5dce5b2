"""The ``pipelinekit`` command: run pipelines, list runs, trace lineage."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from pipelinekit.errors import DefinitionError, PipelineKitError, RunInterrupted
from pipelinekit.version import __version__

__all__ = ["main", "console_main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from pipelinekit.cli import commands
    from pipelinekit.serving.cli import add_serve_arguments, run_serve

    parser = argparse.ArgumentParser(
        prog="pipelinekit", description="Typed ML pipelines on Apache Beam with ML Metadata lineage."
    )
    parser.add_argument("--version", action="version", version=f"pipelinekit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv also shows Beam's)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the Pipeline defined in a Python file")
    run.add_argument("file", help="pipeline file; it defines a Pipeline (named 'pipeline' if there are several)")
    run.add_argument(
        "--runner",
        choices=["beam", "local"],
        default="beam",
        help="beam: parallel on Apache Beam (default); local: serial, for debugging",
    )
    run.add_argument(
        "--beam-arg",
        action="append",
        metavar="ARG",
        help="extra beam_pipeline_args for executors, e.g. --beam-arg=--direct_num_workers=2",
    )
    run.add_argument("--no-cache", action="store_true", help="run every node, ignoring cached results")
    run.add_argument("--max-parallel", type=int, help="most nodes to run at once on the Beam runner (default: the machine's cores, at least 2)")
    run.add_argument(
        "--pin-span",
        action="append",
        metavar="NODE=SPAN",
        help="make ExampleGen NODE read only span SPAN (range_config static_range), e.g. to retrain on a rolled-back version's data",
    )
    _runtime_parameter_flag(run)
    run.set_defaults(handler=commands.run_command)

    check = sub.add_parser("check", help="compile a pipeline file and show its plan, running nothing")
    check.add_argument("file")
    _runtime_parameter_flag(check)
    check.set_defaults(handler=commands.check_command)

    for name, handler, text in (
        ("runs", commands.runs_command, "list runs with status and duration"),
        ("lineage", commands.lineage_command, "show where an artifact came from"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("file", nargs="?", help="pipeline file (or use --metadata)")
        if name == "lineage":
            command.add_argument("artifact", help="artifact id, or NODE.OUTPUT for the latest one, e.g. trainer.model")
            command.add_argument("--downstream", action="store_true", help="show what used the artifact instead")
        else:
            command.add_argument("--limit", type=int, default=20, help="most runs to list (default 20)")
            command.add_argument("run_ids", nargs="*", metavar="RUN", help="with `runs compare RUN RUN...`: the runs to compare")
            command.add_argument("--only-differences", action="store_true", help="runs compare: show only the rows that differ")
        command.add_argument("--metadata", help="path of a metadata.sqlite store, instead of a pipeline file")
        command.add_argument("--pipeline-name", help="which pipeline, when the store holds several")
        command.set_defaults(handler=handler)

    from pipelinekit.cli.models import add_models_arguments, models_command

    models = sub.add_parser("models", help="the model registry: versions, aliases, history, rollback")
    add_models_arguments(models)
    models.set_defaults(handler=models_command)

    serve = sub.add_parser(
        "serve", help="serve SavedModels over TensorFlow Serving's gRPC and REST APIs (tensorflow_model_server's flags)"
    )
    add_serve_arguments(serve)
    serve.set_defaults(handler=run_serve)

    from pipelinekit.cli.route import add_route_arguments, run_route

    route = sub.add_parser("route", help="list and change a running server's routes (its admin API, on loopback)")
    add_route_arguments(route)
    route.set_defaults(handler=run_route)

    from pipelinekit.cli.report_ui import add_report_and_ui

    add_report_and_ui(sub)

    from pipelinekit.cli.monitor import add_monitor_arguments, run_monitor

    monitor = sub.add_parser("monitor", help="watch a model's request logs: drift, skew, labels, value; act on a policy")
    add_monitor_arguments(monitor)
    monitor.set_defaults(handler=run_monitor)
    return parser


def console_main() -> NoReturn:
    """Entry point of the ``pipelinekit`` console script and ``python -m pipelinekit``: :func:`main`,
    then a fast exit (``cli/fast_exit.py``)."""
    from pipelinekit.cli.fast_exit import exit_after_flushing

    exit_after_flushing(main())


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``pipelinekit`` command; the exit code. Callable in-process (tests, notebooks)."""
    args = _parse(argv)
    _quiet_library_notices(args.verbose)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for library in ("apache_beam", "tensorflow", "absl"):  # deprecation notices from inside TFMA, TFT and Beam
        logging.getLogger(library).setLevel(logging.INFO if args.verbose > 1 else logging.ERROR)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return int(args.handler(args))
    except PipelineKitError as error:
        print(f"pipelinekit {args.command}: {error}", file=sys.stderr)
        return 2 if isinstance(error, DefinitionError) else 1
    except KeyboardInterrupt as error:
        signal_number = getattr(error, "signal_number", signal.SIGINT)
        name = signal.Signals(signal_number).name
        detail = "; the run is marked INTERRUPTED and the nodes that finished are cached" if args.command == "run" else ""
        print(f"pipelinekit {args.command}: interrupted by {name}{detail}", file=sys.stderr)
        return 128 + int(signal_number)
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = _quiet_shutdown_hook


_GOOGLE_PYTHON_NOTICE = "ignore::FutureWarning:google.api_core._python_version_support"


def _quiet_library_notices(verbose: int) -> None:
    """Hide the libraries' start-up notices unless ``-vv``: TensorFlow's C++ INFO and WARNING lines
    (oneDNN, CUDA drivers, CPU features, TensorRT) and Google's Python-support FutureWarning.

    Both go through the environment, so the processes we start (server workers, parallel Tuner
    trials) inherit them; a value the user set is kept.
    """
    if verbose > 1:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "PYTHONWARNINGS" not in os.environ:
        os.environ["PYTHONWARNINGS"] = _GOOGLE_PYTHON_NOTICE
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.")  # in this process, already started


def _quiet_shutdown_hook(unraisable: sys.UnraisableHookArgs) -> None:
    """TensorFlow's function objects raise in ``__del__`` while the interpreter shuts down
    ("Exception ignored in AtomicFunction.__del__"): harmless, but dozens of lines after a run."""
    if "AtomicFunction.__del__" in getattr(unraisable.object, "__qualname__", ""):
        return
    sys.__unraisablehook__(unraisable)


def _raise_interrupt(signal_number: int, frame: object) -> None:
    """SIGTERM stops a run the way Ctrl-C does: the run and its running nodes are marked as such."""
    raise RunInterrupted("terminated", signal_number)


def _runtime_parameter_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--runtime-parameter",
        action="append",
        type=_name_value,
        metavar="NAME=VALUE",
        help="the value of the pipeline's RuntimeParameter NAME (converted to its ptype); repeat for several; "
        "the others take their defaults",
    )


def _name_value(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` as a pair; argparse reports the ValueError's message with the flag."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE, e.g. --runtime-parameter train-steps=500")
    return name.strip(), value


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "lineage" and args.artifact is None:
        parser.error("lineage needs an ARTIFACT")
    return args
