"""The routes' off switch: a small JSON-over-HTTP admin endpoint, on loopback only, behind a token.

``GET /routes`` lists the routes in force; ``POST /routes/<name>/<action>`` with a JSON body changes
one: ``weights`` ({"weights": {target: weight}}), ``promote`` and ``disable`` ({"target": key}),
``rollback`` ({}). Every request needs ``Authorization: Bearer <token>``, the content of the token
file (see :mod:`pipelinekit.serving.admin_token`). A body may name
``who`` made the change; it is recorded with the change.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipelinekit.serving.errors import StatusError, http_status_for_code
from pipelinekit.serving.route_watch import RouteFileWatcher
from pipelinekit.serving.router import Router, describe_route
from pipelinekit.serving.routes import Route, RouteConfigError

__all__ = ["AdminServer"]

logger = logging.getLogger(__name__)

_MAX_BODY = 64 * 1024


class AdminServer:
    """Serves the admin API on 127.0.0.1:``port`` (0 picks one) until ``stop()``."""

    def __init__(self, router: Router, token: str, port: int = 0, watcher: RouteFileWatcher | None = None) -> None:
        self._router = router
        self._watcher = watcher
        self._token = token.encode()
        handler = type("_BoundHandler", (_Handler,), {"admin": self})
        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:
            raise OSError(
                f"cannot bind the route admin API at 127.0.0.1:{port}: {exc.strerror}. Pick another with --admin_port."
            ) from exc
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="pipelinekit-admin", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AdminServer:
        self._thread.start()
        logger.info("route admin API at %s", self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), self._token)

    def handle(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts == ["routes"]:
            listing: dict[str, Any] = {
                "routes": {name: describe_route(r) for name, r in sorted(self._router.routes.items())}
            }
            if self._watcher is not None:
                listing["route_file"] = {"path": self._watcher.path, "last_error": self._watcher.last_error}
            return listing
        if method != "POST" or len(parts) != 3 or parts[0] != "routes":
            raise RouteConfigError(f"no admin API {method} {path}; see `pipelinekit route --help`", code="NOT_FOUND")
        name, action = parts[1], parts[2]
        who = str(body.get("who") or "unknown")
        if action == "rollback":
            route = self._router.rollback(name, who)
        elif action == "weights":
            weights = body.get("weights")
            if not isinstance(weights, dict):  # the numbers themselves are checked by Route.with_weights
                raise RouteConfigError('weights needs {"weights": {"<target>": <number>, ...}}')
            update = lambda r: _enabled(r.with_weights(weights), [k for k, w in weights.items() if w > 0])  # noqa: E731
            route = self._router.change(name, "set-weights", update, who, {"weights": weights})
        elif action in ("promote", "disable"):
            target = body.get("target")
            if not isinstance(target, str):
                raise RouteConfigError(f'{action} needs {{"target": "<model>[/<version>]"}}')
            change = _promote if action == "promote" else _disable
            route = self._router.change(name, action, lambda r: change(r, target), who, {"target": target})
        else:
            raise RouteConfigError(
                f"unknown route action {action!r}; use weights, promote, disable or rollback", code="NOT_FOUND"
            )
        return {"route": name, **describe_route(route)}


def _enabled(route: Route, keys: list[str]) -> Route:
    return dataclasses.replace(route, disabled=route.disabled - set(keys))


def _promote(route: Route, target: str) -> Route:
    """All of the split's traffic to ``target`` (switched back on if it was off)."""
    weights = {t.key: (1.0 if t.key == target else 0.0) for t in route.split}
    return _enabled(route.with_weights(weights), [target])


def _disable(route: Route, target: str) -> Route:
    keys = {t.key for t in (*route.split, *route.fallbacks, *route.shadows)}
    if target not in keys:
        raise RouteConfigError(f"route {route.name!r} has no target {target!r}; its targets are {sorted(keys)}")
    return dataclasses.replace(route, disabled=route.disabled | {target})


class _Handler(BaseHTTPRequestHandler):
    admin: AdminServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def _answer(self, method: str) -> None:
        if not self.admin.authorized(self.headers.get("Authorization")):
            self._send(401, {"error": "missing or wrong admin token: send Authorization: Bearer <token file content>"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                raise RouteConfigError(f"the admin request body is over {_MAX_BODY} bytes")
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise RouteConfigError(f"the admin request body is not JSON: {exc}") from exc
            if not isinstance(body, dict):
                raise RouteConfigError("the admin request body must be a JSON object")
            self._send(200, self.admin.handle(method, self.path, body))
        except StatusError as exc:
            self._send(http_status_for_code(exc.code), {"error": str(exc)})
        except Exception as exc:
            logger.exception("admin %s %s failed", method, self.path)
            self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        logger.debug("admin: " + format, *args)
