"""``pipelinekit serve``: the flags of ``tensorflow_model_server``, so a command line moves as is.

The core CLI owns the parser; it calls :func:`add_serve_arguments` on its ``serve`` subparser
and :func:`run_serve` with the parsed namespace. This module imports nothing heavy until
``run_serve`` runs.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelinekit.serving.supervisor import Supervisor

__all__ = ["add_serve_arguments", "run_serve"]

logger = logging.getLogger(__name__)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the model server flags (TF Serving's names and defaults, plus a few of ours)."""
    models = parser.add_argument_group("models (as tensorflow_model_server)")
    models.add_argument(
        "--model_name", default="default", help="name of the model to serve (default: %(default)s)"
    )
    models.add_argument("--model_base_path", help="folder holding the model's integer version folders")
    models.add_argument(
        "--model_config_file",
        help="ModelServerConfig text proto naming several models; replaces the two flags above",
    )
    models.add_argument(
        "--model_config_file_poll_wait_seconds",
        type=float,
        default=0,
        help="re-read --model_config_file this often, applying changes; 0 reads it once (default)",
    )
    models.add_argument(
        "--file_system_poll_wait_seconds",
        type=float,
        default=1.0,
        help="poll the base paths for new versions this often; 0 loads once (default: %(default)s)",
    )
    models.add_argument(
        "--enable_model_warmup",
        type=_bool,
        nargs="?",
        const=True,
        default=True,
        help="replay assets.extra/tf_serving_warmup_requests before a version serves (default: true)",
    )
    models.add_argument(
        "--max_num_load_retries",
        type=int,
        default=5,
        help="retry a failed version load this many times (default: %(default)s)",
    )
    models.add_argument(
        "--load_retry_interval_micros",
        type=int,
        default=60_000_000,
        help="wait between load retries, in microseconds (default: %(default)s, one minute)",
    )
    net = parser.add_argument_group("network")
    net.add_argument(
        "--port", type=int, default=8500, help="gRPC port; 0 picks a free one (default: %(default)s)"
    )
    net.add_argument(
        "--rest_api_port", type=int, default=8501, help="REST port; 0 turns REST off (default: %(default)s)"
    )
    net.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind both ports; 0.0.0.0 exposes them (default: %(default)s)",
    )
    net.add_argument(
        "--rest_api_timeout_in_ms",
        type=int,
        default=30000,
        help="REST request timeout (default: %(default)s)",
    )
    net.add_argument(
        "--grpc_max_threads", type=int, default=16, help="gRPC worker threads (default: %(default)s)"
    )
    net.add_argument(
        "--num_workers",
        type=int,
        default=1,
        help="server processes sharing both ports (SO_REUSEPORT), each holding the models; above 1 a "
        "supervisor process runs them (docs/SERVING.md, Several worker processes) (default: %(default)s)",
    )
    net.add_argument(
        "--max_request_bytes",
        type=int,
        default=64 * 1024 * 1024,
        help="largest request accepted on either port (default: %(default)s)",
    )
    net.add_argument(
        "--max_tensor_bytes",
        type=int,
        default=256 * 1024 * 1024,
        help="most bytes a request's input tensors may decode to; more is RESOURCE_EXHAUSTED "
        "(default: %(default)s)",
    )
    routes = parser.add_argument_group("routes and request logs (docs/SERVING.md, Routes)")
    routes.add_argument("--route_config_file", help="YAML file of routes: splits, shadows, fallbacks")
    routes.add_argument(
        "--route_config_file_poll_wait_seconds",
        type=float,
        default=1.0,
        help="re-read --route_config_file this often; 0 reads it once (default: %(default)s)",
    )
    routes.add_argument(
        "--admin_port", type=int, help="serve the route admin API on 127.0.0.1 at this port (0 picks one)"
    )
    routes.add_argument(
        "--admin_token_file", help="the admin API's token; created with mode 0600 when missing"
    )
    routes.add_argument(
        "--route_metadata_path", help="SQLite ML Metadata store recording every route change"
    )
    routes.add_argument(
        "--registry_metadata_path",
        help="the model registry's ML Metadata store (metadata.sqlite): version labels follow its aliases "
        "(pipelinekit models alias|rollback), each version loaded and warmed up before its label moves",
    )
    routes.add_argument(
        "--registry_poll_wait_seconds",
        type=float,
        default=1.0,
        help="how often to read the registry's aliases (default: %(default)s)",
    )
    routes.add_argument("--request_log_dir", help="write sampled requests here as PredictionLog TFRecords")
    routes.add_argument(
        "--request_log_sample_rate",
        type=float,
        default=1.0,
        help="share of requests logged, 0 to 1 (default: %(default)s)",
    )
    batching = parser.add_argument_group("batching")
    batching.add_argument(
        "--enable_batching",
        type=_bool,
        nargs="?",
        const=True,
        default=False,
        help="batch concurrent predict requests",
    )
    batching.add_argument(
        "--max_batch_size", type=int, default=32, help="rows per batch (default: %(default)s)"
    )
    batching.add_argument(
        "--batch_timeout_micros",
        type=int,
        default=0,
        help="longest wait for a batch to fill (default: %(default)s)",
    )


def run_serve(args: argparse.Namespace) -> int:
    """Start the server, serve until SIGINT or SIGTERM, then shut down gracefully; the exit code."""
    from pipelinekit.serving.errors import ModelConfigError, WorkerStartError
    from pipelinekit.serving.server import ModelServer

    server: ModelServer | Supervisor
    try:
        options = _server_options(args)
        if args.num_workers == 1:
            server = ModelServer(options).start()
        else:
            from pipelinekit.serving.supervisor import Supervisor

            server = Supervisor(options, args.num_workers).start()
    except (ModelConfigError, OSError, WorkerStartError) as exc:
        logger.error("%s", exc)
        return 2
    # The graceful handlers go in before the ready line: a caller that signals as soon as it reads
    # that line must get a graceful stop (exit 0), not the CLI's "interrupted" exit 143.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    admin = server.admin if isinstance(server, ModelServer) else None
    print(f"Serving {server.manager.model_names}: gRPC {server.grpc_address}", end="")
    print(f", REST {server.rest_url}" if server.rest_port else "", end="")
    print(f", route admin {admin.url}" if admin else "", flush=True)
    watcher = _start_config_watcher(args, server, stop)
    stop.wait()
    if watcher is not None:
        watcher.join(timeout=5)
    server.stop()
    return 0


def _server_options(args: argparse.Namespace):
    from pipelinekit.serving.batching import BatchingOptions
    from pipelinekit.serving.errors import ModelConfigError
    from pipelinekit.serving.load_retries import LoadRetryPolicy
    from pipelinekit.serving.model_config import read_model_config_file, single_model_config
    from pipelinekit.serving.server import ServerOptions

    if args.model_config_file:
        config = read_model_config_file(args.model_config_file)
    elif args.model_base_path:
        config = single_model_config(args.model_name, args.model_base_path)
    else:
        raise ModelConfigError("pass --model_base_path (with --model_name), or --model_config_file")
    if not 0 <= args.request_log_sample_rate <= 1:
        raise ModelConfigError(f"--request_log_sample_rate must be between 0 and 1, got {args.request_log_sample_rate}")
    lowest = {
        "max_request_bytes": 1, "max_tensor_bytes": 1, "max_num_load_retries": 0, "load_retry_interval_micros": 0,
        "num_workers": 1,
    }  # fmt: skip
    for flag, low in lowest.items():
        if getattr(args, flag) < low:
            raise ModelConfigError(f"--{flag} must be at least {low}, got {getattr(args, flag)}")
    if args.num_workers > 1 and args.admin_port is not None:
        raise ModelConfigError(
            "--admin_port cannot be used with --num_workers above 1: each worker process has its own routes, "
            "so a change made through one worker's admin API would not reach the others. Change routes in "
            "--route_config_file (every worker watches it), or serve with --num_workers 1."
        )
    if args.num_workers > 1 and args.registry_metadata_path:
        raise ModelConfigError(
            "--registry_metadata_path cannot be used with --num_workers above 1 yet: serve with --num_workers 1 "
            "to follow the registry's aliases"
        )
    if args.registry_poll_wait_seconds <= 0:
        raise ModelConfigError(f"--registry_poll_wait_seconds must be above 0, got {args.registry_poll_wait_seconds}")
    return ServerOptions(
        config=config,
        host=args.host,
        grpc_port=args.port,
        rest_port=args.rest_api_port or None,
        poll_wait_seconds=args.file_system_poll_wait_seconds,
        enable_warmup=args.enable_model_warmup,
        max_request_bytes=args.max_request_bytes,
        rest_timeout_s=args.rest_api_timeout_in_ms / 1000,
        grpc_max_threads=args.grpc_max_threads,
        max_tensor_bytes=args.max_tensor_bytes,
        load_retry=LoadRetryPolicy(args.max_num_load_retries, args.load_retry_interval_micros / 1e6),
        route_config_file=args.route_config_file,
        route_poll_wait_seconds=args.route_config_file_poll_wait_seconds,
        admin_port=args.admin_port,
        admin_token_file=args.admin_token_file,
        route_metadata_path=args.route_metadata_path,
        registry_metadata_path=args.registry_metadata_path,
        registry_poll_wait_seconds=args.registry_poll_wait_seconds,
        request_log_dir=args.request_log_dir,
        request_log_sample_rate=args.request_log_sample_rate,
        batching=BatchingOptions(args.max_batch_size, args.batch_timeout_micros)
        if args.enable_batching
        else None,
    )


def _start_config_watcher(args: argparse.Namespace, server, stop: threading.Event) -> threading.Thread | None:
    """Re-read --model_config_file every --model_config_file_poll_wait_seconds, as TF Serving does."""
    if not args.model_config_file or args.model_config_file_poll_wait_seconds <= 0:
        return None
    from pipelinekit.serving.errors import StatusError
    from pipelinekit.serving.model_config import read_model_config_file

    def watch() -> None:
        last = server.options.config
        while not stop.wait(args.model_config_file_poll_wait_seconds):
            try:
                config = read_model_config_file(args.model_config_file)
                if config != last:
                    server.manager.reload_config(config)
                last = config
            except StatusError as exc:
                logger.error("keeping the current models: %s", exc)

    thread = threading.Thread(target=watch, name="pipelinekit-config-watcher", daemon=True)
    thread.start()
    return thread


def _bool(text: str) -> bool:
    """TF Serving's boolean flag values: true/false (also 1/0, yes/no)."""
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
