"""The model server: the model manager, the gRPC port and the REST port, started and stopped together."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc
import uvicorn

from pipelinekit.serving.admin import AdminServer
from pipelinekit.serving.admin_token import write_token
from pipelinekit.serving.batching import Batcher, BatchingOptions
from pipelinekit.serving.errors import ModelConfigError
from pipelinekit.serving.grpc_service import create_grpc_server
from pipelinekit.serving.inference import DEFAULT_MAX_TENSOR_BYTES, run_direct
from pipelinekit.serving.load_retries import LoadRetryPolicy
from pipelinekit.serving.metrics import ServerMetrics
from pipelinekit.serving.model_config import ModelServerConfig
from pipelinekit.serving.model_manager import ModelManager
from pipelinekit.serving.registry_labels import RegistryLabelFollower
from pipelinekit.serving.request_log import RequestLog
from pipelinekit.serving.rest_app import create_rest_app
from pipelinekit.serving.review_queue import ReviewQueue
from pipelinekit.serving.route_records import RouteChangeRecorder
from pipelinekit.serving.route_watch import RouteFileWatcher
from pipelinekit.serving.routed_service import RoutedInferenceService
from pipelinekit.serving.router import Router
from pipelinekit.serving.routes import Review
from pipelinekit.serving.sockets import bind_tcp

if TYPE_CHECKING:
    from typing import Self

__all__ = ["ModelServer", "ServerOptions"]

logger = logging.getLogger(__name__)


@dataclass
class ServerOptions:
    """How to run a ModelServer. Port 0 picks a free port; ``rest_port=None`` turns REST off.

    ``max_request_bytes`` bounds a request's body, ``max_tensor_bytes`` what its tensors decode to.
    """

    config: ModelServerConfig
    host: str = "127.0.0.1"
    grpc_port: int = 8500
    rest_port: int | None = 8501
    poll_wait_seconds: float = 1.0
    enable_warmup: bool = True
    max_request_bytes: int = 64 * 1024 * 1024
    rest_timeout_s: float = 30.0
    grpc_max_threads: int = 16
    batching: BatchingOptions | None = None
    max_tensor_bytes: int = DEFAULT_MAX_TENSOR_BYTES
    load_retry: LoadRetryPolicy = field(default_factory=LoadRetryPolicy)
    route_config_file: str | None = None
    route_poll_wait_seconds: float = 1.0
    admin_port: int | None = None
    admin_token_file: str | None = None
    route_metadata_path: str | None = None
    registry_metadata_path: str | None = None  # labels follow the aliases of this registry's store
    registry_poll_wait_seconds: float = 1.0
    request_log_dir: str | None = None
    request_log_sample_rate: float = 1.0
    worker: int | None = None  # the index of this worker process under `serve --num_workers N`
    manage_memory: bool = True  # collect, freeze and trim the heap around loads (off inside another process)


class ModelServer:
    """Serves the configured models over TF Serving's gRPC and REST APIs.

    ``start()`` returns once the initial versions are loaded and both ports accept requests;
    ``stop()`` stops taking requests, lets running ones finish, then unloads the models.
    A worker of ``serve --num_workers N`` passes its own ``manager`` (one the supervisor drives)
    and sets ``options.worker``: both ports are then bound with SO_REUSEPORT.
    """

    def __init__(self, options: ServerOptions, manager: ModelManager | None = None) -> None:
        self.options = options
        self.manager = manager if manager is not None else ModelManager(
            options.config, options.poll_wait_seconds, options.enable_warmup, options.load_retry, options.manage_memory
        )
        self.metrics = ServerMetrics(self.manager.available_versions, self._known_name, options.worker)
        recorder = RouteChangeRecorder(options.route_metadata_path, options.worker) if options.route_metadata_path else None
        self.router = Router(self.manager.serves, self.metrics.routes, recorder)
        self.request_log = (
            RequestLog(
                options.request_log_dir, options.request_log_sample_rate, self.metrics.request_log, worker=options.worker
            )
            if options.request_log_dir
            else None
        )
        runner = Batcher(options.batching).run if options.batching else run_direct
        self.review = ReviewQueue(self._review_of)
        self.service = RoutedInferenceService(
            self.manager.servable, self.router, runner, options.max_tensor_bytes, self.request_log, self.review
        )
        self.route_watcher: RouteFileWatcher | None = None
        self.registry_labels: RegistryLabelFollower | None = None
        self.admin: AdminServer | None = None
        self.grpc_port = 0
        self.rest_port: int | None = None
        self._grpc_server: grpc.Server | None = None
        self._rest_server: uvicorn.Server | None = None
        self._rest_thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def grpc_address(self) -> str:
        return f"{self.options.host}:{self.grpc_port}"

    @property
    def rest_url(self) -> str:
        return f"http://{self.options.host}:{self.rest_port}"

    def start(self) -> ModelServer:
        """Load the models and open the ports; on any failure, release what was started and re-raise."""
        try:
            return self._start()
        except BaseException:
            self.stop(grace_s=0)
            raise

    def _known_name(self, name: str) -> bool:
        return self.manager.serves(name) or self.router.is_route(name)

    def _review_of(self, name: str) -> Review | None:
        route = self.router.routes.get(name)
        return route.review if route is not None else None

    def _start(self) -> ModelServer:
        self.manager.start()
        if self.options.registry_metadata_path:
            self.registry_labels = RegistryLabelFollower(
                self.options.registry_metadata_path, self.manager, self.options.registry_poll_wait_seconds
            ).start()
        if self.options.route_config_file:
            self.route_watcher = RouteFileWatcher(
                self.options.route_config_file, self.router, self.options.route_poll_wait_seconds
            ).start()
        if self.options.admin_port is not None:
            if not self.options.admin_token_file:
                raise ModelConfigError("--admin_port needs --admin_token_file (created with mode 0600 if missing)")
            token = write_token(self.options.admin_token_file)
            self.admin = AdminServer(self.router, token, self.options.admin_port, self.route_watcher).start()
        grpc_server, self.grpc_port = create_grpc_server(
            self.service,
            self.manager,
            self.metrics,
            f"{self.options.host}:{self.options.grpc_port}",
            self.options.grpc_max_threads,
            self.options.max_request_bytes,
            reuse_port=self.options.worker is not None,
        )
        self._grpc_server = grpc_server
        grpc_server.start()
        logger.info("gRPC API at %s", self.grpc_address)
        if self.options.rest_port is not None:
            self._start_rest(self.options.rest_port)
            logger.info("REST API at %s", self.rest_url)
        return self

    def _start_rest(self, port: int) -> None:
        app = create_rest_app(
            self.service,
            self.manager,
            self.metrics,
            self.options.max_request_bytes,
            self.options.rest_timeout_s,
        )
        sock = bind_tcp(
            self.options.host,
            port,
            "REST port",
            "--rest_api_port",
            reuse_port=self.options.worker is not None,  # the workers of `serve --num_workers N` share the port
            no_delay=True,
        )
        self.rest_port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=10
        )
        self._rest_server = uvicorn.Server(config)
        self._rest_thread = threading.Thread(
            target=self._rest_server.run, kwargs={"sockets": [sock]}, name="pipelinekit-rest", daemon=True
        )
        self._rest_thread.start()
        deadline = time.monotonic() + 30
        while not self._rest_server.started:
            if not self._rest_thread.is_alive() or time.monotonic() > deadline:
                raise OSError(
                    f"the REST server on {self.options.host}:{self.rest_port} did not start; see the log "
                    "above"
                )
            time.sleep(0.01)

    def stop(self, grace_s: float = 5.0) -> None:
        """Graceful shutdown: refuse new requests, finish running ones (up to ``grace_s``), unload."""
        if self._stopped.is_set():
            return
        if self._rest_server is not None and self._rest_thread is not None:
            self._rest_server.should_exit = True
            self._rest_thread.join(timeout=grace_s + 10)
        if self._grpc_server is not None:
            self._grpc_server.stop(grace_s).wait()
        if self.admin is not None:
            self.admin.stop()
        if self.route_watcher is not None:
            self.route_watcher.stop()
        if self.registry_labels is not None:
            self.registry_labels.stop()
        self.router.close()
        if self.request_log is not None:
            self.request_log.close()
        self.review.close()
        self.manager.stop()
        self._stopped.set()
        logger.info("model server stopped")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server is stopped (by ``stop()`` from another thread); True if it is."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
