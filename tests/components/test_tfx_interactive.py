"""TFX's notebook flow (``InteractiveContext``: ``run`` one component at a time, ``show``) with
only the imports changed, from a plain script."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from pipelinekit import tfx
from pipelinekit.errors import RunError
from pipelinekit.metadata.names import PIPELINE_RUN

# TFX's tutorial cells, as one script: only the imports differ.
NOTEBOOK = """
import csv, os, random, sys

from pipelinekit import tfx
from pipelinekit.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

root = sys.argv[1]
data_root = os.path.join(root, "data")
os.makedirs(data_root)
rng = random.Random(0)
with open(os.path.join(data_root, "data.csv"), "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["length", "colour", "label"])
    for _ in range(60):
        writer.writerow([round(rng.uniform(1, 9), 2), rng.choice(["red", "blue"]), rng.randint(0, 1)])

context = InteractiveContext(
    pipeline_name="notebook",
    pipeline_root=os.path.join(root, "tfx_root"),
    metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(os.path.join(root, "mlmd.sqlite")),
    beam_pipeline_args=["--direct_num_workers=1"],
)
example_gen = tfx.components.CsvExampleGen(input_base=data_root)
print("RESULT", context.run(example_gen, enable_cache=True))
artifact = example_gen.outputs["examples"].get()[0]
print("SPLITS", artifact.split_names, os.path.isdir(artifact.uri))

statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
print("RESULT", context.run(statistics_gen, enable_cache=True))
context.show(statistics_gen.outputs["statistics"])

schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False)
first = context.run(schema_gen, enable_cache=True)
print("RESULT", first)
context.show(schema_gen.outputs["schema"])

again = context.run(statistics_gen, enable_cache=True)
print("RESULT", again)
print("SAME", again.component.outputs["statistics"].get()[0].uri == statistics_gen.outputs["statistics"].get()[0].uri)
print("FORCED", context.run(schema_gen, enable_cache=False))
"""


@pytest.mark.slow
def test_notebook_flow_runs_component_by_component_and_caches(tmp_path):
    script = tmp_path / "notebook.py"
    script.write_text(NOTEBOOK)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": repo}
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    results = [line.split(" ", 1)[1] for line in lines if line.startswith("RESULT")]
    assert [r.split(":")[0] for r in results] == [
        "ExecutionResult(CsvExampleGen",
        "ExecutionResult(StatisticsGen",
        "ExecutionResult(SchemaGen",
        "ExecutionResult(StatisticsGen",
    ]
    assert [r.split(": ")[1].split(",")[0] for r in results] == ["ran", "ran", "ran", "cached"]
    assert 'SPLITS ["train", "eval"] True' in lines
    assert "SAME True" in lines
    assert next(line for line in lines if line.startswith("FORCED")).startswith("FORCED ExecutionResult(SchemaGen: ran")
    assert "type: ExampleStatistics" in lines and "type: Schema" in lines
    assert any(line.startswith("files: ") and "Split-train" in line for line in lines)
    # Each run is a pipeline run of its own in the store, counting only the node it ran.
    database = sqlite3.connect(tmp_path / "mlmd.sqlite")
    assert database.execute("select count(*) from Execution").fetchone()[0] == 5
    ran = database.execute(
        "select p.int_value from ContextProperty p join Context c on c.id = p.context_id join Type t on t.id = c.type_id"
        " where t.name = ? and p.name = 'ran' order by c.id",
        (PIPELINE_RUN,),
    ).fetchall()
    assert ran == [(1,), (1,), (1,), (0,), (1,)]


def test_a_component_whose_upstream_was_not_run_is_refused_naming_it(tmp_path):
    from pipelinekit.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

    context = tfx.orchestration.experimental.interactive.interactive_context.InteractiveContext(pipeline_root=str(tmp_path))
    assert isinstance(context, InteractiveContext)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "data.csv").write_text("a,b\n1,2\n")
    example_gen = tfx.components.CsvExampleGen(input_base=str(tmp_path / "data"))
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    with pytest.raises(RunError, match=r"cannot run 'StatisticsGen': its upstream component 'CsvExampleGen' has not been run"):
        context.run(statistics_gen)
    with pytest.raises(RunError, match=r"CsvExampleGen.outputs\['examples'\] has no artifacts yet"):
        context.show(example_gen.outputs["examples"])
    assert not os.path.exists(tmp_path / "StatisticsGen")


def test_defaults_are_tfx_s(tmp_path):
    from pipelinekit.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

    context = InteractiveContext()
    assert context.pipeline_name.startswith("interactive-")
    assert os.path.basename(context.pipeline_root).startswith("tfx-interactive-")
    os.rmdir(context.pipeline_root)


def test_a_failed_component_raises_and_leaves_its_channels_empty(tmp_path):
    from pipelinekit.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("a,b\n")
    context = InteractiveContext(pipeline_root=str(tmp_path / "root"))
    example_gen = tfx.components.CsvExampleGen(input_base=str(tmp_path / "data"))
    with pytest.raises(RunError, match=r"x.csv has a header but no rows"):
        context.run(example_gen)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    with pytest.raises(RunError, match=r"upstream component 'CsvExampleGen' has not been run"):
        context.run(statistics_gen)


def test_show_in_a_notebook_displays_an_escaped_html_table(tmp_path, monkeypatch, capsys):
    pytest.importorskip("IPython")
    import IPython.display

    from pipelinekit.tfx.orchestration.experimental.interactive import interactive_context

    shown: list = []
    monkeypatch.setattr(interactive_context, "_in_ipython", lambda: True)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    (tmp_path / "Split-train").mkdir()
    artifact = tfx.types.standard_artifacts.Examples(uri=str(tmp_path))
    artifact.split_names = '["train"]'
    artifact.set_custom_property("note", "<b>&")
    interactive_context.InteractiveContext(pipeline_root=str(tmp_path / "root")).show([artifact])
    assert len(shown) == 1 and capsys.readouterr().out == ""
    html = shown[0].data
    assert "<td><b>type</b></td><td>Examples</td>" in html and "Split-train" in html
    assert "&lt;b&gt;&amp;" in html and "<b>&" not in html  # a property's value is escaped
