"""Shared foundations: standard artifact types as TFX records them, the lazy components
package, constructor-argument helpers and the user module loader."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pipelinekit.components.util.arguments import given, parse_proto, proto_argument
from pipelinekit.components.util.errors import ComponentArgumentError, UserModuleError
from pipelinekit.components.util.module_loader import function_from, load_function, load_module_file

from pipelinekit import OutputArtifact, component
from pipelinekit.dsl.placeholder import Placeholder
from pipelinekit.tfx import proto
from pipelinekit.types import standard


def test_verdicts_and_push_results_are_custom_properties(tmp_path):
    blessing = standard.ModelBlessing(str(tmp_path / "b"))
    blessing.mark(True)
    assert blessing.custom_properties["blessed"] == 1 and "blessed" not in standard.ModelBlessing.PROPERTIES
    assert (tmp_path / "b" / "BLESSED").exists()
    infra = standard.InfraBlessing(str(tmp_path / "i"))
    infra.mark(False)
    assert (tmp_path / "i" / "INFRA_NOT_BLESSED").exists() and infra.blessed == 0
    pushed = standard.PushedModel(str(tmp_path / "p"))
    pushed.pushed_version = "1700000000"
    with pytest.raises(TypeError, match="pushed_version takes str"):
        pushed.pushed_version = 1700000000
    assert pushed.custom_properties == {"pushed_version": "1700000000"}


@pytest.mark.parametrize(
    ("cls", "value", "stored"),
    [
        (standard.String, "héllo", "héllo".encode()),
        (standard.Integer, 42, b"42"),
        (standard.Float, 0.1, b"0.1"),
        (standard.Bytes, b"\x00\x01", b"\x00\x01"),
        (standard.Boolean, True, b"1"),
        (standard.JsonValue, {"b": [1, None], "a": "x"}, b'{"a": "x", "b": [1, null]}'),
    ],
)
def test_value_artifacts_keep_the_value_in_uri_value(tmp_path, cls, value, stored):
    artifact = cls(str(tmp_path / "out"))
    artifact.value = value
    assert (tmp_path / "out" / "value").read_bytes() == stored
    assert cls(str(tmp_path / "out")).value == value


@pytest.mark.parametrize(
    ("cls", "wrong"), [(standard.String, 1), (standard.Integer, True), (standard.Boolean, 1), (standard.Bytes, "s")]
)
def test_value_artifacts_reject_the_wrong_type(tmp_path, cls, wrong):
    with pytest.raises(TypeError, match=f"{cls.__name__}.value takes"):
        cls(str(tmp_path)).value = wrong


def test_type_names_are_tfx_names():
    names = {c.TYPE_NAME for c in (standard.TunerResults, standard.ExamplesDiff, standard.String, standard.JsonValue)}
    assert names == {"TunerResults", "ExamplesDiff", "String", "JsonValue"}


def test_components_package_is_lazy_and_names_everything():
    code = "import sys, pipelinekit.components; print(sorted(m for m in sys.modules if m.startswith('pipelinekit.components.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    from pipelinekit import components

    assert {"CsvExampleGen", "Trainer", "BulkInferrer", "InfraValidator"} <= set(components.__all__)
    with pytest.raises(AttributeError, match="standard components are"):
        components.NoSuchGen  # noqa: B018


@component
def _make_string(out: OutputArtifact[standard.String]) -> None:
    out.value = "{}"


def test_proto_arguments_become_tfx_json_and_placeholders_pass_through():
    stored = proto_argument(proto.TrainArgs(num_steps=5), proto.TrainArgs, "train_args", "Trainer")
    assert stored == '{\n  "num_steps": 5\n}'
    assert parse_proto(stored, proto.TrainArgs) == proto.TrainArgs(num_steps=5)
    assert parse_proto(None, proto.TrainArgs) == proto.TrainArgs()
    placeholder = _make_string().outputs["out"].future()[0].value
    assert isinstance(placeholder, Placeholder)
    assert proto_argument(placeholder, proto.RangeConfig, "range_config", "CsvExampleGen") is placeholder
    with pytest.raises(ComponentArgumentError, match=r"Trainer\(train_args=...\) takes a tfx.components.trainer.TrainArgs"):
        proto_argument(proto.EvalArgs(), proto.TrainArgs, "train_args", "Trainer")
    with pytest.raises(ValueError, match="not the JSON of a TrainArgs"):
        proto_argument("{nope", proto.TrainArgs, "train_args", "Trainer")
    assert given(a=None, b=0, c=False) == {"b": 0, "c": False}


def test_module_file_loads_fresh_with_sibling_imports(tmp_path):
    (tmp_path / "helper_base.py").write_text("SCALE = 2\n")
    module = tmp_path / "module.py"
    module.write_text("import helper_base as base\ndef preprocessing_fn(x):\n    return x * base.SCALE\n")
    assert load_function("preprocessing_fn", str(module))(3) == 6
    (tmp_path / "helper_base.py").write_text("SCALE = 10\n")
    assert load_function("preprocessing_fn", str(module))(3) == 30
    loaded = load_module_file(str(module))
    assert function_from(loaded, "preprocessing_fn")(1) == 10 and getattr(loaded, "stats_options_updater_fn", None) is None


def test_module_file_errors_name_the_file_and_line(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def run_fn(args):\n    return (\n")
    with pytest.raises(UserModuleError, match=r"bad.py, line \d+: syntax error"):
        load_function("run_fn", str(module))
    module.write_text("def other():\n    pass\n")
    with pytest.raises(UserModuleError, match=r"bad.py defines no function 'preprocessing_fn' \(it defines: other\)"):
        load_function("preprocessing_fn", str(module))
    module.write_text("import no_such_module_anywhere\n")
    with pytest.raises(UserModuleError, match="cannot import no_such_module_anywhere"):
        load_function("run_fn", str(module))
    with pytest.raises(UserModuleError, match="does not exist"):
        load_function("run_fn", str(tmp_path / "missing.py"))


def test_dotted_function_paths_load_like_tfx():
    assert load_function("preprocessing_fn", dotted_path="json.dumps") is __import__("json").dumps
    with pytest.raises(UserModuleError, match="has no function 'nope'"):
        load_function("preprocessing_fn", dotted_path="json.nope")
    with pytest.raises(UserModuleError, match="cannot import module"):
        load_function("run_fn", dotted_path="no_such_pkg.run_fn")
