"""Artifact types: typed properties, custom properties, registration and the annotations."""

from __future__ import annotations

from typing import Optional

import pytest

from pipelinekit import Artifact, Examples, InputArtifact, ModelBlessing, OutputArtifact, Parameter, Property
from pipelinekit.errors import DefinitionError
from pipelinekit.types import artifact_class_for
from pipelinekit.types.annotations import parse_annotation


def test_typed_properties_are_checked_and_ints_widen_to_float():
    class Scored(Artifact):
        score = Property(float)
        label = Property(str)

    artifact = Scored("/data/x", score=3, label="a")
    assert artifact.score == 3.0 and isinstance(artifact.score, float)
    with pytest.raises(TypeError, match="property 'label' takes str, got int"):
        artifact.label = 5
    with pytest.raises(TypeError, match="Scored has no property 'nope'"):
        Scored("/x", nope=1)


def test_standard_types_keep_tfx_names_and_split_layout():
    examples = Examples("/root/gen/examples/1")
    examples.splits = ["train", "eval"]
    assert examples.TYPE_NAME == "Examples"
    assert examples.split_names == '["train", "eval"]'
    assert examples.split_uri("train") == "/root/gen/examples/1/Split-train"


def test_blessing_writes_the_marker_file(tmp_path):
    blessing = ModelBlessing(str(tmp_path / "b"))
    blessing.mark(False)
    assert blessing.blessed == 0
    assert (tmp_path / "b" / "NOT_BLESSED").exists()


def test_custom_properties_accept_json_like_values_only():
    artifact = Examples("/x")
    artifact.set_custom_property("rows", 10)
    artifact.set_custom_property("meta", {"a": [1, 2]})
    with pytest.raises(TypeError, match="custom property 'bad'"):
        artifact.set_custom_property("bad", object())


def test_type_names_must_be_unique_and_unknown_names_get_a_class():
    with pytest.raises(DefinitionError, match="already used"):
        type("Examples", (Artifact,), {"__qualname__": "Other.Examples"})
    unknown = artifact_class_for("SomethingFromTFX")
    assert issubclass(unknown, Artifact) and unknown.TYPE_NAME == "SomethingFromTFX"


@pytest.mark.parametrize(
    ("annotation", "role", "optional"),
    [
        (InputArtifact[Examples], "input", False),
        (Optional[InputArtifact[Examples]], "input", True),
        (InputArtifact[Examples] | None, "input", True),
        (OutputArtifact[Examples], "output", False),
        (Parameter[int], "parameter", False),
    ],
)
def test_annotations_are_read_back(annotation, role, optional):
    parsed = parse_annotation(annotation)
    assert parsed is not None and parsed.role == role and parsed.optional == optional


def test_plain_annotations_are_not_ours():
    assert parse_annotation(int) is None
    assert parse_annotation(Optional[int]) is None
