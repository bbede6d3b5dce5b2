"""The Pusher component, with TFX's constructor."""

from __future__ import annotations

from typing import Any

from pipelinekit.components.util.arguments import given, proto_argument
from pipelinekit.components.util.errors import ComponentArgumentError

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.proto import pusher_pb2
from pipelinekit.types.standard import InfraBlessing, Model, ModelBlessing, PushedModel

__all__ = ["Pusher"]


class Pusher(Component):
    """Pushes ``model`` to ``push_destination`` when every blessing given is positive.

    The version folder ``<base_directory>/<version>/`` appears in one rename, so a server never
    sees half of it; the same model pushed again is not pushed twice. ``custom_config`` may
    hold ``serving_address`` (``host:port`` of a TF-Serving-compatible gRPC server),
    ``serving_model_name`` and ``serving_timeout_s``: the Pusher then waits until that server
    reports the pushed version AVAILABLE.
    """

    EXECUTOR = "pipelinekit.components.pusher.executor:run_pusher"

    model = InputSpec(Model, optional=True)
    model_blessing = InputSpec(ModelBlessing, optional=True)
    infra_blessing = InputSpec(InfraBlessing, optional=True)
    pushed_model = OutputSpec(PushedModel)
    push_destination = ParameterSpec(str)
    custom_config = ParameterSpec(dict, None)

    def __init__(
        self,
        model: Channel | None = None,
        model_blessing: Channel | None = None,
        infra_blessing: Channel | None = None,
        push_destination: Any = None,
        custom_config: dict[str, Any] | None = None,
        custom_executor_spec: Any = None,
    ) -> None:
        if custom_executor_spec is not None:
            raise ComponentArgumentError("Pusher: custom_executor_spec= (deprecated in TFX) is not supported")
        if push_destination is None:
            raise ComponentArgumentError(
                "Pusher: push_destination= is required, e.g. "
                "PushDestination(filesystem=PushDestination.Filesystem(base_directory='serving_model/penguin'))"
            )
        if model is None and infra_blessing is None:
            raise ComponentArgumentError("Pusher: give model= (or infra_blessing= from an InfraValidator with make_warmup)")
        super().__init__(
            **given(
                model=model,
                model_blessing=model_blessing,
                infra_blessing=infra_blessing,
                push_destination=proto_argument(push_destination, pusher_pb2.PushDestination, "push_destination", "Pusher"),
                custom_config=custom_config,
            )
        )
