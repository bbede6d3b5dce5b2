"""The pipes between the supervisor of ``serve --num_workers N`` and its worker processes.

Each worker has two: on ``control`` the supervisor sends commands (``open``, ``close``, ``state``,
``serve``) and the worker answers each with a :class:`Reply`, in order; on ``upcall`` the worker
asks the supervisor (``reload``, a config reload a client sent to this worker) and waits for its
:class:`Reply`. A pipe whose other end closed means that process is gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from pipelinekit.serving.errors import StatusError

__all__ = ["Reply", "WorkerLink", "WorkerPool"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """A command's outcome: ``code`` OK, or the status code and message of the error it raised."""

    code: str = "OK"
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "OK"

    @classmethod
    def of(cls, call: Callable[[], Any]) -> Reply:
        """Run ``call``; the Reply for how it went (a failure other than a StatusError is UNKNOWN)."""
        try:
            call()
        except StatusError as exc:
            return cls(exc.code, str(exc))
        except OSError as exc:  # a port that cannot be bound: the message says which and what to do
            return cls("UNAVAILABLE", str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure is reported to the other side
            logger.exception("the command failed")
            return cls("UNKNOWN", f"{type(exc).__name__}: {exc}")
        return cls()


@dataclass
class WorkerLink:
    """The supervisor's handle on one worker process: its index, process and both pipes."""

    index: int
    process: BaseProcess
    control: Connection
    upcall: Connection

    def send(self, command: str, payload: Any = None) -> bool:
        """Send a command; False if the worker is gone."""
        try:
            self.control.send((command, payload))
        except (OSError, ValueError):
            return False
        return True

    def receive(self) -> Reply | None:
        """The answer to the oldest command not yet answered; None if the worker is gone."""
        try:
            reply: Reply = self.control.recv()
        except (EOFError, OSError):
            return None
        return reply

    def call(self, command: str, payload: Any = None) -> Reply | None:
        return self.receive() if self.send(command, payload) else None

    def close(self) -> None:
        self.control.close()
        self.upcall.close()


class WorkerPool:
    """The workers that take part in the model lifecycle; commands go to all of them, one command at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._links: dict[int, WorkerLink] = {}

    def broadcast(self, command: str, payload: Any = None) -> dict[int, Reply | None]:
        """Send a command to every worker, then wait for every answer (None from a worker that is gone)."""
        with self._lock:
            return self._broadcast(command, payload)

    def broadcast_state(self, state: Callable[[], Any]) -> dict[int, Reply | None]:
        """Send ``("state", state())``, with ``state()`` read in turn with the other commands, so never stale."""
        with self._lock:
            return self._broadcast("state", state())

    def add(self, link: WorkerLink) -> None:
        """Include a worker in every later command (at start, before any version is loaded)."""
        with self._lock:
            self._links[link.index] = link

    def join(self, link: WorkerLink, state: Callable[[], Any]) -> Reply | None:
        """Send a restarted worker the current state, then include it in every later command."""
        with self._lock:
            reply = link.call("state", state())
            if reply is not None and reply.ok:
                self._links[link.index] = link
            return reply

    def leave(self, index: int) -> WorkerLink | None:
        with self._lock:
            return self._links.pop(index, None)

    def links(self) -> list[WorkerLink]:
        with self._lock:
            return list(self._links.values())

    def _broadcast(self, command: str, payload: Any) -> dict[int, Reply | None]:
        sent = [link for link in self._links.values() if link.send(command, payload)]
        replies: dict[int, Reply | None] = {link.index: None for link in self._links.values()}
        for link in sent:
            replies[link.index] = link.receive()
        return replies
