"""The InfraValidator component, with TFX's constructor."""

from __future__ import annotations

from typing import Any

from pipelinekit.components.util.arguments import given, proto_argument
from pipelinekit.components.util.errors import ComponentArgumentError

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.proto import infra_validator_pb2
from pipelinekit.types.standard import Examples, InfraBlessing, Model

__all__ = ["InfraValidator"]


class InfraValidator(Component):
    """Loads ``model`` in pipelinekit's TF-Serving-compatible server on a free loopback port,
    waits until it is AVAILABLE and, with ``examples`` and ``request_spec``, sends real
    requests built from them. Writes ``INFRA_BLESSED`` or ``INFRA_NOT_BLESSED`` (and, with
    ``request_spec.make_warmup``, a warmed-up copy in ``stamped_model/`` for the Pusher).

    A ``serving_spec`` naming TF Serving on local Docker or Kubernetes is accepted; the model is
    served by pipelinekit's server instead, and a note says so. No Docker is needed.
    """

    EXECUTOR = "pipelinekit.components.infra_validator.executor:run_infra_validator"
    LIBRARIES = ("tensorflow", "tensorflow-serving-api", "grpcio")

    model = InputSpec(Model)
    examples = InputSpec(Examples, optional=True)
    blessing = OutputSpec(InfraBlessing)
    serving_spec = ParameterSpec(str)
    request_spec = ParameterSpec(str, None)
    validation_spec = ParameterSpec(str, None)

    def __init__(
        self,
        model: Channel,
        serving_spec: Any = None,
        examples: Channel | None = None,
        request_spec: Any = None,
        validation_spec: Any = None,
    ) -> None:
        if serving_spec is None:
            raise ComponentArgumentError(
                "InfraValidator: serving_spec= is required, e.g. ServingSpec(tensorflow_serving=TensorFlowServing("
                "tags=['latest']), local_docker=LocalDockerConfig())"
            )
        super().__init__(
            **given(
                model=model,
                examples=examples,
                serving_spec=proto_argument(serving_spec, infra_validator_pb2.ServingSpec, "serving_spec", "InfraValidator"),
                request_spec=proto_argument(request_spec, infra_validator_pb2.RequestSpec, "request_spec", "InfraValidator"),
                validation_spec=proto_argument(
                    validation_spec, infra_validator_pb2.ValidationSpec, "validation_spec", "InfraValidator"
                ),
            )
        )
