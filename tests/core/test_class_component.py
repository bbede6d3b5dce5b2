"""A class-declared component end to end: lazy executor import, caching on the executor's file,
inherited specs and optional outputs."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest
from toy_class_component import CountAtLeast
from toy_components import Numbers, generate, read_numbers, write_numbers

from pipelinekit import Channel, Component, InputSpec, LocalDagRunner, OutputSpec, ParameterSpec, Pipeline
from pipelinekit.errors import ComponentDefinitionError
from pipelinekit.types import ExternalPath


def test_a_class_component_runs_and_caches(pipeline_root):
    def pipeline(minimum: float) -> Pipeline:
        g = generate(count=10)
        return Pipeline("classy", pipeline_root, [CountAtLeast(numbers=g.outputs["numbers"], minimum=minimum)])

    first = LocalDagRunner().run(pipeline(4.0))
    first.raise_for_failure()
    assert read_numbers(first.output("CountAtLeast", "count")) == [6]
    assert LocalDagRunner().run(pipeline(4.0)).nodes["CountAtLeast"].status == "cached"
    assert LocalDagRunner().run(pipeline(5.0)).nodes["CountAtLeast"].reason == "parameter 'minimum' changed"


def test_editing_the_executor_module_reruns_the_node_with_the_new_code(pipeline_root, tmp_path, monkeypatch):
    source = importlib.util.find_spec("toy_count_executor").origin
    executor = tmp_path / "edited_count_executor.py"
    shutil.copy(source, executor)
    monkeypatch.syspath_prepend(str(tmp_path))

    class EditedCount(Component):
        numbers = InputSpec(Numbers)
        count = OutputSpec(Numbers)
        minimum = ParameterSpec(float, default=0.0)
        EXECUTOR = "edited_count_executor:run"

    def run():
        g = generate(count=3)
        return LocalDagRunner().run(Pipeline("edited", pipeline_root, [EditedCount(numbers=g.outputs["numbers"], minimum=0.0)]))

    assert read_numbers(run().output("EditedCount", "count")) == [3]
    executor.write_text(executor.read_text().replace("[len(values)]", "[len(values) * 100]"))
    # the same process imported the old version: the node must run the edited file, not the cached module
    os.utime(executor, (os.path.getmtime(executor) + 5, os.path.getmtime(executor) + 5))
    result = run()
    assert result.nodes["EditedCount"].reason == "code changed (edited_count_executor)"
    assert read_numbers(result.output("EditedCount", "count")) == [300]


def _count_with_note(context, numbers, count, note=None, note_file=None) -> None:
    write_numbers(count, [len(read_numbers(numbers))])
    if note is not None:
        with open(note_file) as handle:
            write_numbers(note, [float(handle.read())])


class _CountBase(Component):
    EXECUTOR = _count_with_note
    numbers = InputSpec(Numbers)
    count = OutputSpec(Numbers)
    note = OutputSpec(Numbers, optional=True)
    note_file = ParameterSpec(ExternalPath, default=None)


class CountWithNote(_CountBase):
    """Inherits every spec; its constructor decides whether the optional output exists."""

    def __init__(self, numbers: Channel, note_file: str | None = None) -> None:
        super().__init__(omit_outputs=() if note_file else {"note"}, numbers=numbers, note_file=note_file)


def test_specs_are_inherited_and_optional_outputs_left_out_by_the_constructor(pipeline_root, tmp_path):
    assert CountWithNote.definition.spec == _CountBase.definition.spec
    (tmp_path / "note.txt").write_text("7")
    with_note = CountWithNote(numbers=generate(count=2).outputs["numbers"], note_file=str(tmp_path / "note.txt"))
    without = CountWithNote(numbers=generate(count=3).with_id("three").outputs["numbers"]).with_id("plain")
    assert list(with_note.outputs) == ["count", "note"] and list(without.outputs) == ["count"]
    result = LocalDagRunner().run(Pipeline("inherited", pipeline_root, [with_note, without]))
    result.raise_for_failure()
    assert read_numbers(result.output("CountWithNote", "note")) == [7.0]
    assert read_numbers(result.output("plain", "count")) == [3]
    assert set(result.nodes["plain"].outputs) == {"count"}


def test_relative_paths_resolve_in_the_base_and_only_optional_outputs_can_be_left_out(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    node = CountWithNote(numbers=generate().outputs["numbers"], note_file="data/note.txt")
    assert node.parameters["note_file"] == os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "note.txt")
    with pytest.raises(ComponentDefinitionError, match=r"'_CountBase': outputs \['count'\] cannot be omitted; its optional ones: note"):
        _CountBase(omit_outputs={"count"}, numbers=generate().outputs["numbers"])
