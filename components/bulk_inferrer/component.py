"""The BulkInferrer component, with TFX's constructor: ``inference_result`` (PredictionLogs) or,
with an ``output_example_spec``, ``output_examples`` (the examples plus prediction columns)."""

from __future__ import annotations

from typing import Any

from pipelinekit.components.util.arguments import given, proto_argument

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.node import Channel
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec
from pipelinekit.proto import bulk_inferrer_pb2
from pipelinekit.types.standard import Examples, InferenceResult, Model, ModelBlessing

__all__ = ["BulkInferrer"]


class BulkInferrer(Component):
    """Runs ``model`` over ``examples`` (the splits in ``data_spec``, all by default) with the
    signatures in ``model_spec`` (``serving_default`` by default). Nothing runs when
    ``model_blessing`` is given and not blessed. The node has exactly one output, as in TFX.
    """

    EXECUTOR = "pipelinekit.components.bulk_inferrer.executor:run_bulk_inferrer"
    LIBRARIES = ("tensorflow", "apache-beam", "tensorflow-serving-api")

    examples = InputSpec(Examples)
    model = InputSpec(Model, optional=True)
    model_blessing = InputSpec(ModelBlessing, optional=True)
    inference_result = OutputSpec(InferenceResult, optional=True)
    output_examples = OutputSpec(Examples, optional=True)
    data_spec = ParameterSpec(str, None)
    model_spec = ParameterSpec(str, None)
    output_example_spec = ParameterSpec(str, None)

    def __init__(
        self,
        examples: Channel,
        model: Channel | None = None,
        model_blessing: Channel | None = None,
        data_spec: Any = None,
        model_spec: Any = None,
        output_example_spec: Any = None,
    ) -> None:
        super().__init__(
            omit_outputs={"inference_result" if output_example_spec else "output_examples"},
            **given(
                examples=examples,
                model=model,
                model_blessing=model_blessing,
                data_spec=proto_argument(data_spec, bulk_inferrer_pb2.DataSpec, "data_spec", "BulkInferrer"),
                model_spec=proto_argument(model_spec, bulk_inferrer_pb2.ModelSpec, "model_spec", "BulkInferrer"),
                output_example_spec=proto_argument(
                    output_example_spec, bulk_inferrer_pb2.OutputExampleSpec, "output_example_spec", "BulkInferrer"
                ),
            ),
        )
