"""``pipelinekit report`` (a run as one self-contained HTML file) and ``pipelinekit ui`` (a web app
over the store and, optionally, a running model server)."""

from __future__ import annotations

import argparse
import os
import sys

from pipelinekit.errors import DefinitionError

__all__ = ["add_report_and_ui"]


def add_report_and_ui(sub: argparse._SubParsersAction) -> None:
    """Register both subcommands on the ``pipelinekit`` parser."""
    report = sub.add_parser("report", help="write one run's report as a self-contained HTML file (opens offline)")
    report.add_argument("run_id", metavar="RUN_ID", help="the run, as `pipelinekit runs` lists it, or 'latest'")
    _store_arguments(report)
    report.add_argument("-o", "--output", default="report.html", help="the HTML file to write (default report.html)")
    report.set_defaults(handler=run_report)

    ui = sub.add_parser("ui", help="a web UI: runs, run pages, and a running server's models and routes")
    _store_arguments(ui)
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    ui.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    ui.add_argument("--server", metavar="URL", help="a running `pipelinekit serve`'s REST address, e.g. http://127.0.0.1:8501")
    ui.add_argument("--admin_port", type=int, help="that server's --admin_port: unlocks the off switch for holders of its token")
    ui.add_argument("--admin_token_file", help="that server's --admin_token_file")
    ui.set_defaults(handler=run_ui)


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline", dest="file", metavar="FILE", help="pipeline file whose store to read (or use --metadata)")
    parser.add_argument("--metadata", help="path of a metadata.sqlite store")
    parser.add_argument("--pipeline-name", help="which pipeline, when the store holds several")


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from pipelinekit.cli.commands import _store_and_name
    from pipelinekit.metadata.store import MetadataStore

    if args.file:
        return _store_and_name(args)[0]
    if not args.metadata:
        raise DefinitionError("name the store: --metadata PATH (a metadata.sqlite) or --pipeline FILE")
    if not os.path.isfile(args.metadata):
        raise DefinitionError(f"metadata store {args.metadata} does not exist")
    from pipelinekit.dsl.metadata_config import sqlite_metadata

    return MetadataStore(sqlite_metadata(os.path.abspath(args.metadata)))


def run_report(args: argparse.Namespace) -> int:
    from pipelinekit.report.render import write_report

    run_id, size = write_report(_store(args), args.run_id, args.output, args.pipeline_name)
    print(f"wrote the report of run {run_id} to {args.output} ({size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


def run_ui(args: argparse.Namespace) -> int:
    import uvicorn

    from pipelinekit.ui.app import create_app
    from pipelinekit.ui.context import UiContext

    token = None
    if (args.admin_port is None) != (args.admin_token_file is None):
        raise DefinitionError("--admin_port and --admin_token_file go together (the server's admin API and its token)")
    if args.admin_token_file:
        from pipelinekit.serving.admin_token import read_token

        token = read_token(args.admin_token_file)
    context = UiContext(_store(args), args.server, args.admin_port, args.admin_token_file, token)
    print(
        f"pipelinekit ui on http://{args.host}:{args.port}/ ({'admin token required to change routes' if token else 'read-only'})",
        file=sys.stderr,
    )
    uvicorn.run(create_app(context), host=args.host, port=args.port, log_level="warning")
    return 0
