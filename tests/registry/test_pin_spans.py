"""``pipelinekit run --pin-span NODE=SPAN``: what it sets, and the mistakes it names."""

from __future__ import annotations

import json

import pytest
from pipelinekit.components import CsvExampleGen
from toy_components import generate

from pipelinekit import Pipeline
from pipelinekit.cli.pin_spans import pin_spans
from pipelinekit.errors import DefinitionError


def _pipeline(tmp_path) -> Pipeline:
    return Pipeline("pins", str(tmp_path / "root"), [CsvExampleGen(input_base=str(tmp_path)), generate()])


def test_a_pin_sets_the_example_gen_static_range(tmp_path):
    pipeline = _pipeline(tmp_path)
    pin_spans(pipeline, ["CsvExampleGen=3"])
    [gen] = [n for n in pipeline.all_nodes() if n.id == "CsvExampleGen"]
    assert json.loads(gen.parameters["range_config"]) == {"staticRange": {"startSpanNumber": 3, "endSpanNumber": 3}}


@pytest.mark.parametrize(
    "pin, message",
    [
        ("CsvExampleGen", "write NODE=SPAN with a whole-number span"),
        ("CsvExampleGen=-1", "write NODE=SPAN with a whole-number span"),
        ("CsvExampleGem=1", r"has no node 'CsvExampleGem' \(did you mean 'CsvExampleGen'\?\)"),
        ("generate=1", r"node 'generate' \(generate\) is not an ExampleGen"),
    ],
)
def test_a_bad_pin_names_what_is_wrong(tmp_path, pin, message):
    with pytest.raises(DefinitionError, match=message):
        pin_spans(_pipeline(tmp_path), [pin])
