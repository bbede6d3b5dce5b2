"""``pipelinekit route``: list and change a running server's routes through its admin API.

The admin API listens on 127.0.0.1 only (``pipelinekit serve --admin_port``); this command reads the
token from the server's ``--admin_token_file`` and names the user running it as who made the change.
"""

from __future__ import annotations

import argparse
import getpass
import json
import urllib.error
import urllib.request
from typing import Any

from pipelinekit.errors import ServingError

__all__ = ["AdminClient", "add_route_arguments", "run_route"]


class AdminClient:
    """Calls the admin API of the server on 127.0.0.1:``port`` with the token in ``token_file``."""

    def __init__(self, port: int, token_file: str, timeout_s: float = 10.0, who: str | None = None) -> None:
        from pipelinekit.serving.admin_token import read_token

        self._who = who or getpass.getuser()  # recorded with each change
        self._url = f"http://127.0.0.1:{port}"
        self._token = read_token(token_file)
        self._timeout_s = timeout_s

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps({**body, "who": self._who}).encode()
        request = urllib.request.Request(
            self._url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise ServingError(f"the route admin API answered {exc.code}: {message}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ServingError(
                f"cannot reach the route admin API at {self._url}: {exc}; is `pipelinekit serve --admin_port` running?"
            ) from exc


def add_route_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--admin_port", type=int, required=True, help="the server's --admin_port")
    parser.add_argument("--admin_token_file", required=True, help="the server's --admin_token_file")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the routes in force, their weights and switched-off targets")
    weights = actions.add_parser("set-weights", help="new split weights, e.g. penguins/1=90 penguins/2=10")
    weights.add_argument("route")
    weights.add_argument("weights", nargs="+", metavar="TARGET=WEIGHT")
    for name, text in (("promote", "send all of the split to one target"), ("disable", "switch a target off")):
        action = actions.add_parser(name, help=text)
        action.add_argument("route")
        action.add_argument("target", help="as `route list` names it: model, model/version or model@label")
    rollback = actions.add_parser("rollback", help="undo the route's last change")
    rollback.add_argument("route")


def run_route(args: argparse.Namespace) -> int:
    client = AdminClient(args.admin_port, args.admin_token_file)
    if args.action == "list":
        answer = client.call("GET", "/routes")
    elif args.action == "set-weights":
        answer = client.call("POST", f"/routes/{args.route}/weights", {"weights": _weights(args.weights)})
    elif args.action == "rollback":
        answer = client.call("POST", f"/routes/{args.route}/rollback", {})
    else:
        answer = client.call("POST", f"/routes/{args.route}/{args.action}", {"target": args.target})
    print(json.dumps(answer, indent=2, sort_keys=True))
    return 0


def _weights(pairs: list[str]) -> dict[str, float]:
    weights = {}
    for pair in pairs:
        target, _, weight = pair.rpartition("=")
        try:
            weights[target] = float(weight)
        except ValueError:
            target = ""
        if not target:
            raise ServingError(f"set-weights takes TARGET=WEIGHT pairs such as penguins/2=10, got {pair!r}")
    return weights
