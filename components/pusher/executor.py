"""The Pusher's executor: check the blessings, push the model, record what happened as TFX does."""

from __future__ import annotations

import os
import shutil
from typing import Any

from pipelinekit.components.pusher.filesystem import PushDestinationError, push_version
from pipelinekit.components.util.arguments import parse_proto
from pipelinekit.components.util.blessing import refusal

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.errors import RunError
from pipelinekit.proto import pusher_pb2
from pipelinekit.types.standard import InfraBlessing, Model, ModelBlessing, PushedModel

__all__ = ["run_pusher", "refusals", "model_to_push"]


def run_pusher(
    context: ExecutionContext,
    pushed_model: PushedModel,
    push_destination: str,
    model: Model | None = None,
    model_blessing: ModelBlessing | None = None,
    infra_blessing: InfraBlessing | None = None,
    custom_config: dict[str, Any] | None = None,
) -> None:
    """Push, or record ``pushed=0`` and the reason when a blessing says no."""
    base = _base_directory(parse_proto(push_destination, pusher_pb2.PushDestination))
    refused = refusals(model_blessing, infra_blessing)
    if refused:
        pushed_model.pushed = 0
        pushed_model.set_custom_property("reason", "; ".join(refused))
        context.logger.warning("Pusher: not pushing: %s", "; ".join(refused))
        return
    if model_blessing is None and infra_blessing is None:
        context.logger.warning("Pusher: no blessing inputs; pushing the model unchecked")
    source = model_to_push(model, infra_blessing)
    version, copied = push_version(source, base)
    destination = os.path.join(base, str(version))
    shutil.copytree(source, pushed_model.uri, dirs_exist_ok=True)
    pushed_model.pushed = 1
    pushed_model.pushed_version = str(version)
    pushed_model.pushed_destination = destination
    if not copied:
        pushed_model.set_custom_property("reason", f"the same model is already version {version} at {base}; not copied again")
    context.logger.info("Pusher: %s %s", "pushed to" if copied else "already at", destination)
    config = custom_config or {}
    if config.get("serving_address"):
        _wait_until_served(config, version)


def refusals(model_blessing: ModelBlessing | None, infra_blessing: InfraBlessing | None) -> list[str]:
    """Why the model must not be pushed: one line per blessing given that is not positive."""
    given = (("model_blessing", model_blessing), ("infra_blessing", infra_blessing))
    return [reason for name, blessing in given if blessing is not None and (reason := refusal(name, blessing))]


def model_to_push(model: Model | None, infra_blessing: InfraBlessing | None) -> str:
    """The SavedModel folder to push: InfraValidator's warmed-up copy if it made one, else the model's."""
    if infra_blessing is not None and infra_blessing.has_model == 1:
        return os.path.join(infra_blessing.uri, "stamped_model")
    if model is None:
        raise RunError(
            "Pusher has no model input: wire model=, or infra_blessing= from an InfraValidator with "
            "request_spec.make_warmup=True (this one holds no model)"
        )
    if not os.path.isfile(os.path.join(model.serving_model_dir, "saved_model.pb")):
        raise RunError(f"Pusher: model {model.uri} has no Format-Serving/saved_model.pb to push")
    return model.serving_model_dir


def _base_directory(destination: Any) -> str:
    if destination.WhichOneof("destination") != "filesystem" or not destination.filesystem.base_directory:
        raise PushDestinationError("push_destination.filesystem.base_directory is not set; say where to push the model")
    versioning = destination.filesystem.versioning
    if versioning not in (pusher_pb2.Versioning.AUTO, pusher_pb2.Versioning.UNIX_TIMESTAMP):
        raise PushDestinationError(f"push_destination.filesystem.versioning {versioning} is not supported; use AUTO")
    return os.path.abspath(destination.filesystem.base_directory)


def _wait_until_served(config: dict[str, Any], version: int) -> None:
    """Poll the server named in custom_config until it reports ``version`` AVAILABLE."""
    import time

    from pipelinekit.serving import Client

    address, timeout = config["serving_address"], float(config.get("serving_timeout_s", 60))
    name = config.get("serving_model_name")
    if not name:
        raise PushDestinationError("custom_config.serving_model_name is required with serving_address: which model to watch")
    deadline = time.monotonic() + timeout
    with Client(address, name, timeout_s=5) as client:
        last: Any = None
        while time.monotonic() < deadline:
            states = {s.version: s for s in _status_or_none(client)}
            last = states.get(version)
            if last is not None and last.state == "AVAILABLE":
                return
            if last is not None and last.state == "END":
                break
            time.sleep(0.2)
    raise RunError(
        f"Pusher: the server at {address} (custom_config.serving_address) did not make model {name!r} version "
        f"{version} AVAILABLE within {timeout} s; last status: {last}"
    )


def _status_or_none(client: Any) -> list[Any]:
    from pipelinekit.errors import ServingError

    try:
        return list(client.status())
    except ServingError:
        return []
