"""``serve --num_workers N`` (N > 1): N worker processes sharing both ports, one model lifecycle.

The supervisor process serves no request. It starts the workers (each a ModelServer binding the
gRPC and REST ports with SO_REUSEPORT, so the kernel spreads connections over them), decides the
model lifecycle for all of them (:mod:`pipelinekit.serving.leader`), answers the config reloads
they pass on, and restarts a worker that dies, after loading the serving versions into the new
one and before it opens its ports. Each port is checked free, then kept bound here (not
listening) so that the workers, restarted ones included, share that one port; 0 is picked once.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
from multiprocessing.connection import wait

from pipelinekit.serving.errors import WorkerStartError
from pipelinekit.serving.leader import LeaderManager
from pipelinekit.serving.metrics import MULTIPROCESS_DIR_ENV
from pipelinekit.serving.server import ServerOptions
from pipelinekit.serving.sockets import bind_tcp
from pipelinekit.serving.worker import LOGGERS, run_worker
from pipelinekit.serving.worker_link import Reply, WorkerLink, WorkerPool

__all__ = ["Supervisor"]

logger = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 30.0  # a worker still running this long after SIGTERM is killed
_RESTART_DELAYS_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # between failed restarts of one worker


class Supervisor:
    """Runs ``num_workers`` worker processes serving ``options``; ``start()``, then ``stop()``."""

    def __init__(self, options: ServerOptions, num_workers: int) -> None:
        self.options = options
        self._num_workers = num_workers
        self._pool = WorkerPool()
        self.manager = LeaderManager(options.config, self._pool, options.poll_wait_seconds, options.load_retry)
        self._context = multiprocessing.get_context("spawn")  # never fork a process running gRPC threads
        self._links: dict[int, WorkerLink] = {}  # every worker process started and not yet reaped
        self._spawn_lock = threading.Lock()
        self._stopping = threading.Event()
        self._reserved: list[socket.socket] = []
        self._metrics_dir: str | None = None  # the workers' shared metrics files, when we made the folder
        self._monitor = threading.Thread(target=self._watch, name="pipelinekit-supervisor", daemon=True)

    @property
    def grpc_address(self) -> str:
        return f"{self.options.host}:{self.options.grpc_port}"

    @property
    def rest_port(self) -> int | None:
        return self.options.rest_port

    @property
    def rest_url(self) -> str:
        return f"http://{self.options.host}:{self.options.rest_port}"

    def start(self) -> Supervisor:
        """Start the workers and load the models; return once every worker serves on both ports.

        WorkerStartError (with that worker's error) if any worker fails; the others are stopped.
        """
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Supervisor:
        if not os.environ.get(MULTIPROCESS_DIR_ENV):  # one the user set is kept, and left in place
            self._metrics_dir = tempfile.mkdtemp(prefix="pipelinekit-metrics-")
            os.environ[MULTIPROCESS_DIR_ENV] = self._metrics_dir  # inherited by the workers spawned below
        self.options = dataclasses.replace(
            self.options,
            grpc_port=self._shared_port(self.options.grpc_port, "gRPC", "--port"),
            rest_port=None
            if self.options.rest_port is None
            else self._shared_port(self.options.rest_port, "REST", "--rest_api_port"),
        )
        for index in range(self._num_workers):
            self._pool.add(self._spawn(index))
        self.manager.start()
        for index, reply in sorted(self._pool.broadcast("serve").items()):
            if not _ok(reply):
                raise WorkerStartError(f"worker {index} did not start: {self._failure(index, reply)}")
        self._monitor.start()
        logger.info("%d workers serve gRPC %s", self._num_workers, self.grpc_address)
        return self

    def stop(self) -> None:
        """Stop polling, then stop every worker gracefully (each finishes its running requests)."""
        with self._spawn_lock:
            self._stopping.set()
        self.manager.stop()
        links = list(self._links.values())
        for link in links:
            if link.process.is_alive():
                link.process.terminate()
        for link in links:
            link.process.join(_STOP_TIMEOUT_S)
            if link.process.is_alive():
                logger.error("worker %d did not stop within %.0f s of SIGTERM; killing it", link.index, _STOP_TIMEOUT_S)
                link.process.kill()
                link.process.join()
            link.close()
        if self._monitor.is_alive():
            self._monitor.join(timeout=10)
        for sock in self._reserved:
            sock.close()
        if self._metrics_dir is not None:
            os.environ.pop(MULTIPROCESS_DIR_ENV, None)
            shutil.rmtree(self._metrics_dir, ignore_errors=True)
        logger.info("all workers stopped")

    def _shared_port(self, port: int, what: str, flag: str) -> int:
        """The port the workers share (0 picks a free one), kept bound with SO_REUSEPORT (not
        listening) while we run, so that restarted workers get it too.

        A given port must be free first: SO_REUSEPORT would otherwise let the workers join a
        server already listening there (another ``serve --num_workers`` of this user, say) and
        share its connections.
        """
        if port != 0:  # free, unless another server listens there (its TIME_WAIT connections do not count)
            bind_tcp(self.options.host, port, f"{what} port", flag).close()
        sock = bind_tcp(self.options.host, port, f"{what} port", flag, reuse_port=True)
        self._reserved.append(sock)
        return sock.getsockname()[1]

    def _spawn(self, index: int) -> WorkerLink:
        with self._spawn_lock:
            if self._stopping.is_set():
                raise WorkerStartError(f"worker {index} was not started: the server is stopping")
            control, worker_control = self._context.Pipe()
            upcall, worker_upcall = self._context.Pipe()
            options = dataclasses.replace(self.options, worker=index)  # each records its own protection changes
            levels = {name: logging.getLogger(name).getEffectiveLevel() for name in LOGGERS}
            process = self._context.Process(
                target=run_worker,
                args=(options, worker_control, worker_upcall, levels),
                name=f"pipelinekit-worker-{index}",
            )
            process.start()
            worker_control.close()  # so that each side sees the other's end close when it exits
            worker_upcall.close()
            link = self._links[index] = WorkerLink(index, process, control, upcall)
        threading.Thread(
            target=self._answer_upcalls, args=(link,), name=f"pipelinekit-upcalls-{index}", daemon=True
        ).start()
        logger.info("worker %d started (pid %d)", index, process.pid)
        return link

    def _answer_upcalls(self, link: WorkerLink) -> None:
        """Config reloads a client sent to this worker, applied to every worker."""
        while True:
            try:
                _, config = link.upcall.recv()
            except (EOFError, OSError):
                return
            reply = Reply.of(functools.partial(self.manager.reload_config, config))
            try:
                link.upcall.send(reply)
            except OSError:
                return

    def _watch(self) -> None:
        """Restart every worker that exits while the server runs."""
        while not self._stopping.is_set():
            links = self._pool.links()
            exited = wait([link.process.sentinel for link in links], timeout=0.5)
            for link in links:
                if link.process.sentinel in exited and not self._stopping.is_set():
                    self._restart(link)

    def _restart(self, link: WorkerLink) -> None:
        link.process.join()
        logger.warning(
            "worker %d (pid %d) exited with %s; restarting it", link.index, link.process.pid, _describe_exit(link.process.exitcode)
        )
        self._pool.leave(link.index)
        link.close()
        for delay in (0.0, *_RESTART_DELAYS_S):
            if self._stopping.wait(delay):
                return
            try:
                new = self._spawn(link.index)
            except WorkerStartError:
                return  # stopping
            reply = self._rejoin(new)
            if _ok(reply):
                logger.warning("worker %d restarted (pid %d)", new.index, new.process.pid)
                return
            logger.error("worker %d did not restart: %s", new.index, self._failure(new.index, reply))
            new.process.terminate()
            new.process.join(_STOP_TIMEOUT_S)
            new.close()
        logger.error("worker %d failed to restart %d times; serving without it", link.index, len(_RESTART_DELAYS_S) + 1)

    def _rejoin(self, link: WorkerLink) -> Reply | None:
        """Load the serving versions into a new worker, then let it open its ports and join the pool."""
        reply = link.call("state", self.manager.state())  # answered once the worker has started
        if not _ok(reply):
            return reply
        with self.manager.paused():  # no version is loaded or unloaded meanwhile
            for name, version, path in self.manager.serving_folders():
                reply = link.call("open", (name, version, path))
                if not _ok(reply):
                    return reply
            reply = link.call("state", self.manager.state())  # its statuses are right once it serves
            if _ok(reply):
                reply = link.call("serve")
            if _ok(reply):
                reply = self._pool.join(link, self.manager.state)
        return reply

    def _failure(self, index: int, reply: Reply | None) -> str:
        if reply is not None:
            return reply.message
        process = self._links[index].process
        process.join(5)
        return f"it exited with {_describe_exit(process.exitcode)}; see its log above"


def _ok(reply: Reply | None) -> bool:
    return reply is not None and reply.ok


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit status yet"
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"status {code}"
