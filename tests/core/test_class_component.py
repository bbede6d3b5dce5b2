"""A class-declared component end to end: lazy executor import, caching on the executor's file."""

from __future__ import annotations

import importlib.util
import os
import shutil

from toy_class_component import CountAtLeast
from toy_components import Numbers, generate, read_numbers

from pipelinekit import Component, InputSpec, LocalDagRunner, OutputSpec, ParameterSpec, Pipeline


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
