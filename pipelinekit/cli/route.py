"""``pipelinekit route``: list and change a running server's routes through its admin API.

The admin API listens on 127.0.0.1 only (``pipelinekit serve --admin_port``); this command reads the
token from the server's ``--admin_token_file`` and names the user running it as who made the change.
"""

from __future__ import annotations

import argparse
import json

from pipelinekit.errors import ServingError
from pipelinekit.serving.admin_client import AdminClient

__all__ = ["AdminClient", "add_route_arguments", "run_route"]


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
