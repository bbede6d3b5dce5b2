"""What a tripped rule does to the server, through the same token-protected admin API a person uses
(``pipelinekit route``), as ``who: monitor``; and the one call into the model registry (rollback).

The monitor only ever switches things off; it never switches a target back on, so it cannot undo
a person's change. A person who switches a target back on overrides the monitor: see
:mod:`pipelinekit.monitor.policy`.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

from pipelinekit.errors import ServingError
from pipelinekit.monitor.config import AdminConfig
from pipelinekit.monitor.lineage import MONITOR

__all__ = ["RouteActions", "rollback_production_alias"]

logger = logging.getLogger(__name__)


class RouteActions:
    """Switch-off actions on one route of a running server."""

    def __init__(self, admin: AdminConfig) -> None:
        from pipelinekit.serving.admin_client import AdminClient

        self.route = admin.route
        self._client = AdminClient(admin.port, admin.token_file, who=MONITOR)

    def describe(self) -> dict[str, Any]:
        """The route as in force: ``split`` weights, ``fallbacks``, ``disabled`` targets."""
        routes = self._client.call("GET", "/routes")["routes"]
        if self.route not in routes:
            raise ServingError(
                f"the server has no route {self.route!r} (its routes: {sorted(routes)}); fix admin.route in the policy file"
            )
        return dict(routes[self.route])

    def target_key(self, version: str) -> str:
        """The route's key for a served ``<model>/<version>``: that, or the model alone when the route names no version."""
        route = self.describe()
        keys = {*route["split"], *route["fallbacks"], *route["shadows"]}
        if version in keys:
            return version
        model = version.split("/")[0]
        if model in keys:
            return model
        raise ServingError(f"route {self.route!r} has no target for {version} (its targets: {sorted(keys)})")

    def disable(self, target: str) -> list[str]:
        self._client.call("POST", f"/routes/{self.route}/disable", {"target": target})
        return [target]

    def fallback(self) -> list[str]:
        """Switch off every split target still on, so the route answers with its fallbacks."""
        route = self.describe()
        if not route["fallbacks"]:
            raise ServingError(f"route {self.route!r} has no fallback to send its traffic to; use action: disable")
        switched = [key for key in route["split"] if key not in route["disabled"]]
        for key in switched:
            self.disable(key)
        return switched


def rollback_production_alias(model: str, reason: str, registry_metadata: str) -> None:
    """Roll the model registry's ``production`` alias of ``model`` back to its previous version, via
    ``pipelinekit models rollback`` (the registry's CLI, so the change is recorded as the registry records it)."""
    command = [sys.executable, "-m", "pipelinekit", "models", "rollback", model, "--metadata", registry_metadata,
               "--reason", f"{MONITOR}: {reason}"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise ServingError(f"`pipelinekit models rollback {model}` failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    logger.warning("model %r: production alias rolled back by the monitor: %s", model, reason)
