"""One worker process of ``serve --num_workers N``: a ModelServer whose models the supervisor drives.

The worker answers the supervisor's commands (:mod:`pipelinekit.serving.worker_link`) on one
thread: ``open`` and ``close`` a version, ``state`` (what is published), ``serve`` (open both
ports, with SO_REUSEPORT). It stops gracefully on SIGTERM, and also when the supervisor is gone
(its pipe closes), so a worker never outlives a killed supervisor. SIGINT is left to the
supervisor, which stops every worker.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

from pipelinekit.serving.errors import ModelConfigError, ServerUnavailableError
from pipelinekit.serving.follower import FollowerManager
from pipelinekit.serving.model_config import ModelServerConfig
from pipelinekit.serving.server import ModelServer, ServerOptions
from pipelinekit.serving.worker_link import Reply

__all__ = ["LOGGERS", "run_worker"]

logger = logging.getLogger(__name__)


LOGGERS = ("", "tensorflow", "absl")  # the root logger, and the libraries' whose level the CLI sets


def run_worker(options: ServerOptions, control: Connection, upcall: Connection, log_levels: dict[str, int]) -> None:
    """The worker process's entry point (``options.worker`` is its index); returns once stopped.

    ``log_levels``: the supervisor's levels of :data:`LOGGERS`; records name the worker.
    """
    logging.basicConfig(format=f"%(levelname)s worker {options.worker} %(name)s: %(message)s", force=True)
    for name, level in log_levels.items():
        logging.getLogger(name).setLevel(level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    manager = FollowerManager(options.config, options.enable_warmup, _Upcalls(upcall).reload)
    server = ModelServer(options, manager)
    commands = _Commands(server, manager)
    threading.Thread(target=commands.run, args=(control, stop), name="pipelinekit-worker-commands", daemon=True).start()
    stop.wait()
    server.stop()


class _Commands:
    """Runs the supervisor's commands in order, answering each."""

    def __init__(self, server: ModelServer, manager: FollowerManager) -> None:
        self._server = server
        self._manager = manager

    def run(self, control: Connection, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                command, payload = control.recv()
            except (EOFError, OSError):
                logger.warning("the supervisor is gone; stopping")
                break
            reply = Reply.of(functools.partial(self._do, command, payload))
            try:
                control.send(reply)
            except OSError:
                break
            if command == "serve" and not reply.ok:
                break  # the supervisor stops every worker: this one is done
        stop.set()

    def _do(self, command: str, payload: Any) -> None:
        if command == "open":
            self._manager.open_version(*payload)
        elif command == "close":
            self._manager.close_version(*payload)
        elif command == "state":
            self._manager.follow(payload)
        elif command == "serve":
            self._server.start()
        else:
            raise ValueError(f"unknown worker command {command!r}")


class _Upcalls:
    """This worker's questions to the supervisor, one at a time."""

    def __init__(self, upcall: Connection) -> None:
        self._upcall = upcall
        self._lock = threading.Lock()

    def reload(self, config: ModelServerConfig) -> None:
        """Have the supervisor reload the model config in every worker; raise its error if it failed."""
        with self._lock:
            try:
                self._upcall.send(("reload", config))
                reply: Reply = self._upcall.recv()
            except (EOFError, OSError) as exc:
                raise ServerUnavailableError("the server is shutting down; send the config reload again later") from exc
        if not reply.ok:
            raise ModelConfigError(reply.message, reply.code)
