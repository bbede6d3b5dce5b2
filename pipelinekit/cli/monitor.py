"""``pipelinekit monitor POLICY``: one monitoring window over the new request logs, or one every
``--every`` minutes until stopped; prints what it found and did (``--json``: as JSON)."""

from __future__ import annotations

import argparse
import json
import logging
import time

from rich.console import Console
from rich.table import Table

__all__ = ["add_monitor_arguments", "run_monitor"]

logger = logging.getLogger(__name__)


def add_monitor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", help="the monitor's policy file (YAML): logs, baselines, labels, rules; see docs/LIFECYCLE.md")
    parser.add_argument("--every", type=float, metavar="MINUTES", help="run a window every MINUTES until stopped (default: once)")
    parser.add_argument("--max_files", type=int, help="at most this many new log files per window (default: all)")
    parser.add_argument("--metrics_port", type=int, help="with --every: serve the monitor's Prometheus metrics on this port")
    parser.add_argument("--json", action="store_true", help="print each window's report as one JSON line")


def run_monitor(args: argparse.Namespace) -> int:
    from pipelinekit.monitor.config import load_config
    from pipelinekit.monitor.window import run_window

    config = load_config(args.policy)
    if args.every is not None and args.every <= 0:
        from pipelinekit.monitor.errors import MonitorConfigError

        raise MonitorConfigError(f"--every must be above 0 minutes, got {args.every}")
    while True:
        report = run_window(config, args.max_files)
        if args.json:
            print(json.dumps(report.to_json(), sort_keys=True), flush=True)
        else:
            _show(report)
        if args.every is None:
            return 0
        if args.metrics_port is not None:
            _serve_metrics(config.state_dir, args.metrics_port)
            args.metrics_port = None
        time.sleep(args.every * 60)


def _serve_metrics(state_dir: str, port: int) -> None:
    """Serve the latest ``monitor.prom`` (rewritten after each window) over HTTP."""
    import os
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    path = os.path.join(state_dir, "monitor.prom")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with open(path, "rb") as handle:
                body = handle.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="pipelinekit-monitor-metrics").start()


def _show(report) -> None:  # type: ignore[no-untyped-def]
    out = Console(highlight=False)
    out.print(
        f"window {report.window}: {report.files} log files, {report.requests} requests, {len(report.skipped_files)} files skipped"
    )
    for path, reason in report.skipped_files.items():
        out.print(f"  skipped {path}: {reason}", markup=False)
    if report.versions:
        names = sorted({k for values in report.versions.values() for k in values})
        table = Table("version", *names)
        for version, values in sorted(report.versions.items()):
            table.add_row(version, *(f"{values[n]:.4g}" if n in values else "" for n in names))
        out.print(table)
    for version, features in report.drifted.items():
        if features:
            out.print(f"  {version}: drift or skew in {', '.join(features)}", markup=False)
    if any(report.labels.values()):
        out.print("labels: " + ", ".join(f"{v} {k}" for k, v in report.labels.items()))
        for problem in report.label_problems:
            out.print(f"  {problem}", markup=False)
    for action in report.actions:
        out.print(f"[bold red]{action['action']}[/] {action['version']}: {action['reason']} -> {action['outcome']}")
    if report.span:
        out.print(f"feedback span written: {report.span}", markup=False)
