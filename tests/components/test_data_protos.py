"""The TFX protos: committed code matches the .proto files, names and numbers match TFX's,
and proto_utils writes and reads the JSON TFX stores in exec properties."""

from __future__ import annotations

import filecmp
import pathlib
import subprocess
import sys

import pytest

from pipelinekit.tfx import proto
from pipelinekit.tfx.utils.proto_utils import json_to_proto, proto_to_json

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_committed_pb2_files_match_a_fresh_generation(tmp_path):
    subprocess.run(["bash", str(ROOT / "scripts" / "gen_protos.sh"), str(tmp_path)], check=True, env={"PYTHON": sys.executable})
    fresh = sorted((tmp_path / "pipelinekit" / "proto").glob("*_pb2.py*"))
    assert len(fresh) == 2 * len(list((ROOT / "pipelinekit" / "proto").glob("*.proto")))
    stale = [f.name for f in fresh if not filecmp.cmp(f, ROOT / "pipelinekit" / "proto" / f.name, shallow=False)]
    assert stale == [], f"run scripts/gen_protos.sh and commit: {stale}"


@pytest.mark.parametrize(
    ("message", "full_name", "fields"),
    [
        (proto.Input.Split, "tfx.components.example_gen.Input.Split", {"name": 1, "pattern": 2}),
        (proto.Output, "tfx.components.example_gen.Output", {"split_config": 3}),
        (proto.SplitConfig, "tfx.components.example_gen.SplitConfig", {"splits": 1, "partition_feature_name": 2}),
        (proto.RollingRange, "tfx.configs.RollingRange", {"start_span_number": 1, "num_spans": 2}),
        (proto.TrainArgs, "tfx.components.trainer.TrainArgs", {"splits": 1, "num_steps": 2}),
        (
            proto.PushDestination.Filesystem,
            "tfx.components.pusher.PushDestination.Filesystem",
            {"base_directory": 1, "versioning": 6},
        ),
        (
            proto.RequestSpec,
            "tfx.components.infra_validator.RequestSpec",
            {"tensorflow_serving": 1, "split_name": 2, "num_examples": 3, "make_warmup": 4},
        ),
        (proto.DataSpec, "tfx.components.bulkinferrer.DataSpec", {"example_splits": 2}),
        (proto.OutputExampleSpec, "tfx.components.bulkinferrer.OutputExampleSpec", {"output_columns_spec": 3}),
        (proto.SplitsConfig, "tfx.components.transform.SplitsConfig", {"analyze": 1, "transform": 2}),
        (
            proto.PairedExampleSkew,
            "tfx.components.example_diff.PairedExampleSkew",
            {"identifier_features": 1, "skew_sample_size": 2, "ignore_features": 3, "float_round_ndigits": 4,
             "allow_duplicate_identifiers": 5, "confusion_config": 6},
        ),
        (proto.FeatureComparator, "tfx.components.distribution_validator.FeatureComparator", {"path": 1, "distribution_comparator": 2}),
        (
            proto.DistributionValidatorConfig.DatasetConfig,
            "tfx.components.distribution_validator.DistributionValidatorConfig.DatasetConfig",
            {"feature": 1, "num_examples_comparator": 2},
        ),
    ],
)
def test_messages_keep_tfx_names_and_field_numbers(message, full_name, fields):
    assert message.DESCRIPTOR.full_name == full_name
    assert {f.name: f.number for f in message.DESCRIPTOR.fields} == fields


def test_enums_keep_tfx_values():
    assert proto.PayloadFormat.Value("FORMAT_TF_EXAMPLE") == 6
    assert proto.Versioning.Value("UNIX_TIMESTAMP") == 1
    from pipelinekit.proto import example_gen_pb2

    assert example_gen_pb2.FORMAT_TFRECORDS_GZIP == 5


def test_proto_to_json_sorts_keys_and_keeps_field_names():
    config = proto.SplitConfig(splits=[proto.SplitConfig.Split(name="train", hash_buckets=2)], partition_feature_name="id")
    text = proto_to_json(config)
    assert text.index('"partition_feature_name"') < text.index('"splits"')
    assert '"hash_buckets": 2' in text


def test_json_to_proto_ignores_unknown_fields_and_round_trips():
    parsed = json_to_proto('{"num_steps": 7, "added_in_a_later_tfx": true}', proto.TrainArgs())
    assert parsed == proto.TrainArgs(num_steps=7)
    spec = proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory="/srv/m"))
    assert json_to_proto(proto_to_json(spec), proto.PushDestination()) == spec


def test_tfx_proto_imports_no_tensorflow():
    code = "import sys; from pipelinekit import tfx; tfx.proto.TrainArgs; print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_model_analysis', 'apache_beam')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
