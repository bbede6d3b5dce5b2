"""``tfx.v1.proto``: TFX's configuration messages under the names TFX users write
(``tfx.proto.TrainArgs(num_steps=100)``, ``tfx.proto.PushDestination(...)``).

``DistributionValidatorConfig`` and ``FeatureComparator`` load on first use: their module
imports tensorflow_metadata, whose comparator messages they hold.
"""

from pipelinekit.proto import (
    bulk_inferrer_pb2,
    evaluator_pb2,
    example_diff_pb2,
    example_gen_pb2,
    infra_validator_pb2,
    pusher_pb2,
    range_config_pb2,
    trainer_pb2,
    transform_pb2,
    tuner_pb2,
)
from pipelinekit.tfx._lazy import lazy_names

ModelSpec = bulk_inferrer_pb2.ModelSpec
DataSpec = bulk_inferrer_pb2.DataSpec
OutputExampleSpec = bulk_inferrer_pb2.OutputExampleSpec
OutputColumnsSpec = bulk_inferrer_pb2.OutputColumnsSpec
ClassifyOutput = bulk_inferrer_pb2.ClassifyOutput
RegressOutput = bulk_inferrer_pb2.RegressOutput
PredictOutput = bulk_inferrer_pb2.PredictOutput
PredictOutputCol = bulk_inferrer_pb2.PredictOutputCol

FeatureSlicingSpec = evaluator_pb2.FeatureSlicingSpec
SingleSlicingSpec = evaluator_pb2.SingleSlicingSpec

CustomConfig = example_gen_pb2.CustomConfig
Input = example_gen_pb2.Input
Output = example_gen_pb2.Output
SplitConfig = example_gen_pb2.SplitConfig
PayloadFormat = example_gen_pb2.PayloadFormat

ServingSpec = infra_validator_pb2.ServingSpec
ValidationSpec = infra_validator_pb2.ValidationSpec
TensorFlowServing = infra_validator_pb2.TensorFlowServing
LocalDockerConfig = infra_validator_pb2.LocalDockerConfig
KubernetesConfig = infra_validator_pb2.KubernetesConfig
PodOverrides = infra_validator_pb2.PodOverrides
EnvVar = infra_validator_pb2.EnvVar
EnvVarSource = infra_validator_pb2.EnvVarSource
SecretKeySelector = infra_validator_pb2.SecretKeySelector
RequestSpec = infra_validator_pb2.RequestSpec
TensorFlowServingRequestSpec = infra_validator_pb2.TensorFlowServingRequestSpec

PushDestination = pusher_pb2.PushDestination
Versioning = pusher_pb2.Versioning
Filesystem = pusher_pb2.PushDestination.Filesystem

RangeConfig = range_config_pb2.RangeConfig
RollingRange = range_config_pb2.RollingRange
StaticRange = range_config_pb2.StaticRange

TrainArgs = trainer_pb2.TrainArgs
EvalArgs = trainer_pb2.EvalArgs

SplitsConfig = transform_pb2.SplitsConfig

TuneArgs = tuner_pb2.TuneArgs

ExampleDiffConfig = example_diff_pb2.ExampleDiffConfig
PairedExampleSkew = example_diff_pb2.PairedExampleSkew

_LAZY = {name: "pipelinekit.proto.distribution_validator_pb2" for name in ("DistributionValidatorConfig", "FeatureComparator")}
__getattr__ = lazy_names(__name__, _LAZY, globals())

__all__ = [
    "ModelSpec",
    "DataSpec",
    "OutputExampleSpec",
    "OutputColumnsSpec",
    "ClassifyOutput",
    "RegressOutput",
    "PredictOutput",
    "PredictOutputCol",
    "FeatureSlicingSpec",
    "SingleSlicingSpec",
    "CustomConfig",
    "Input",
    "Output",
    "SplitConfig",
    "PayloadFormat",
    "ServingSpec",
    "ValidationSpec",
    "TensorFlowServing",
    "LocalDockerConfig",
    "KubernetesConfig",
    "PodOverrides",
    "EnvVar",
    "EnvVarSource",
    "SecretKeySelector",
    "RequestSpec",
    "TensorFlowServingRequestSpec",
    "PushDestination",
    "Versioning",
    "Filesystem",
    "RangeConfig",
    "RollingRange",
    "StaticRange",
    "TrainArgs",
    "EvalArgs",
    "SplitsConfig",
    "TuneArgs",
    "ExampleDiffConfig",
    "PairedExampleSkew",
    *_LAZY,
]
