"""Reads the route file at start and re-reads it while the server runs, as the model config is.

A file that fails to parse or to check keeps the routes in force; the error is logged and kept in
``last_error`` (shown by ``pipelinekit route list``) until a good version of the file is read.
"""

from __future__ import annotations

import logging
import threading

from pipelinekit.serving.router import Router
from pipelinekit.serving.routes import RouteConfigError, parse_routes

__all__ = ["RouteFileWatcher"]

logger = logging.getLogger(__name__)


class RouteFileWatcher:
    """Applies ``path`` to ``router`` now (raising if it is bad), then every ``poll_s`` if it changed."""

    def __init__(self, path: str, router: Router, poll_s: float) -> None:
        self.path = path
        self.last_error: str | None = None
        self._router = router
        self._poll_s = poll_s
        self._text: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pipelinekit-route-watcher", daemon=True)

    def start(self) -> RouteFileWatcher:
        self.reload()
        if self._poll_s > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def reload(self) -> bool:
        """Apply the file if its text changed since the last good read; True if routes changed."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise RouteConfigError(
                f"cannot read the route file {self.path!r}: {exc.strerror}; pass an existing file to "
                "--route_config_file"
            ) from exc
        if text == self._text:
            return False
        routes = parse_routes(text, self.path)
        try:
            self._router.set_routes(routes, who=f"route file {self.path}")
        except RouteConfigError as exc:
            raise RouteConfigError(f"{self.path}: {exc}") from exc
        self._text, self.last_error = text, None
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                self.reload()
            except RouteConfigError as exc:
                if str(exc) != self.last_error:  # say it once per bad version of the file
                    logger.error("keeping the routes in force: %s", exc)
                self.last_error = str(exc)
