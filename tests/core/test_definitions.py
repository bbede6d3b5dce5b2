"""Definitions that fail early, with a message; pipeline files that work from any directory
(issue 6, items 10, 12 and 13)."""

from __future__ import annotations

import functools
import glob
import json
import os
import subprocess
import sys
import textwrap

import pytest
from toy_components import Numbers, generate, write_numbers

from pipelinekit import (
    Artifact,
    ComponentDefinitionError,
    DefinitionError,
    InputArtifact,
    LocalDagRunner,
    Model,
    OutputArtifact,
    Parameter,
    Pipeline,
    component,
    load_pipeline,
)
from pipelinekit.types import ModuleFile


def _pipeline(**overrides):
    arguments = {"pipeline_name": "p", "pipeline_root": "root", "components": [generate()]} | overrides
    return Pipeline(**arguments)


def test_a_metadata_path_means_a_sqlite_store(tmp_path):
    pipeline = _pipeline(metadata=str(tmp_path / "store.sqlite"))
    assert pipeline.metadata.kind == "sqlite" and pipeline.metadata.path == str(tmp_path / "store.sqlite")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"metadata": 42}, r"metadata must be a path to a SQLite file or a MetadataConfig"),
        ({"components": [generate]}, r"components\[0\] is the component 'generate' itself, not a node: call it"),
        ({"components": [generate().outputs["numbers"]]}, r"components\[0\] is a channel .*list its node 'generate'"),
        ({"components": [None]}, r"components\[0\] is NoneType None, not a node"),
        ({"components": generate()}, r"got the single node 'generate': write components=\[generate\]"),
        ({"beam_pipeline_args": "--x"}, r"beam_pipeline_args must be a list of flags, e.g. \['--x'\], not a single string"),
        ({"enable_cache": "no"}, r"enable_cache must be True or False, got str 'no'"),
    ],
)
def test_pipeline_arguments_are_checked_when_declared(overrides, message):
    with pytest.raises(DefinitionError, match=message):
        _pipeline(**overrides)


def test_every_pipeline_mistake_is_reported_at_once():
    with pytest.raises(DefinitionError) as caught:
        _pipeline(components=[None], enable_cache="no", beam_pipeline_args="--x")
    assert str(caught.value).count("\n  - ") == 3


def test_component_refuses_a_partial_with_advice():
    def scale(out: OutputArtifact[Numbers], factor: Parameter[float] = 1.0) -> None: ...

    with pytest.raises(ComponentDefinitionError, match=r"needs a function written with def, got partial .*write a small def"):
        component(functools.partial(scale, factor=2.0))


def test_the_positional_argument_hint_never_suggests_an_output():
    @component
    def outputs_first(out: OutputArtifact[Numbers], numbers: InputArtifact[Numbers], k: Parameter[int] = 1) -> None: ...

    with pytest.raises(ComponentDefinitionError, match=r"e.g. outputs_first\(numbers=..., k=...\)"):
        outputs_first(1)


def test_a_user_artifact_may_not_take_a_standard_types_name():
    with pytest.raises(DefinitionError, match=r"'Model' is already used by pipelinekit.types.standard.Model; use it"):
        type("Model", (Artifact,), {"__module__": "users_own_types"})
    from pipelinekit.types.artifact import artifact_class_for

    assert artifact_class_for("Model") is Model  # the standard type was not replaced


def _env() -> dict[str, str]:
    """The environment of a fresh CLI process that can import the toy components and nothing else of ours."""
    toy = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "examples", "toy")
    return {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": os.path.abspath(toy)}


def _write(folder, name: str, source: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def test_a_name_error_in_a_pipeline_file_names_its_line(tmp_path):
    path = _write(tmp_path, "broken.py", "import os\n\nx = undefined_name + 1\n")
    with pytest.raises(DefinitionError, match=r"broken.py, line 3 raised NameError: name 'undefined_name' is not defined"):
        load_pipeline(path)


SIBLING_PIPELINE = """
    import os
    from sibling_helpers import SCALE
    from toy_components import Numbers, write_numbers
    from pipelinekit import OutputArtifact, Parameter, Pipeline, component
    from pipelinekit.types import ModuleFile

    @component
    def uses_sibling(out: OutputArtifact[Numbers], module_file: Parameter[ModuleFile] = "") -> None:
        import sibling_helpers  # imported again when the node runs, in this process or a worker
        with open(module_file) as handle:
            write_numbers(out, [sibling_helpers.SCALE * float(handle.read())])

    pipeline = Pipeline("siblings", ROOT, [uses_sibling(module_file="data/value.txt")])
"""


def test_a_pipeline_file_runs_from_another_directory_with_its_siblings_and_relative_paths(tmp_path, pipeline_root):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "value.txt").write_text("3")
    _write(project, "sibling_helpers.py", "SCALE = 2.0\n")
    path = _write(project, "siblings.py", SIBLING_PIPELINE.replace("ROOT", repr(pipeline_root)))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _env()
    for runner in ("local", "beam"):
        result = subprocess.run(
            [sys.executable, "-m", "pipelinekit", "run", path, "--runner", runner, "--no-cache"],
            cwd=str(elsewhere), env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert load_pipeline(path).components[0].parameters["module_file"] == str(project / "data" / "value.txt")


USER_COMPONENTS_STEPS = """
    import json, os
    from components import helpers
    from pipelinekit import Artifact, OutputArtifact, Parameter, component
    from pipelinekit.types import ModuleFile

    class Value(Artifact):
        \"\"\"A number in value.json.\"\"\"

    @component
    def scaled(out: OutputArtifact[Value], module_file: Parameter[ModuleFile] = "") -> None:
        with open(module_file) as handle, open(os.path.join(out.uri, "value.json"), "w") as result:
            json.dump(helpers.SCALE * float(handle.read()), result)
"""


def test_a_users_own_package_named_components_is_user_code(tmp_path, pipeline_root):
    """Its relative paths resolve against the pipeline file from any directory, and editing its
    code re-keys the node: it is never taken for pipelinekit.components."""
    project = tmp_path / "project"
    (project / "components").mkdir(parents=True)
    _write(project / "components", "__init__.py", "")
    _write(project / "components", "helpers.py", "SCALE = 2.0\n")
    _write(project / "components", "steps.py", USER_COMPONENTS_STEPS)
    (project / "components" / "value.txt").write_text("3")
    pipeline = "from components.steps import scaled\nfrom pipelinekit import Pipeline\n"
    pipeline += f"pipeline = Pipeline('own_components', {pipeline_root!r}, [scaled(module_file='components/value.txt')])\n"
    path = _write(project, "pipeline.py", pipeline)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run() -> tuple[str, float]:
        result = subprocess.run(
            [sys.executable, "-m", "pipelinekit", "run", path, "--runner", "local"],
            cwd=str(elsewhere), env=_env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        newest = max(glob.glob(os.path.join(pipeline_root, "scaled", "out", "*")), key=lambda f: int(os.path.basename(f)))
        with open(os.path.join(newest, "value.json")) as handle:
            return " ".join(result.stderr.split()), json.load(handle)

    assert run()[1] == 6.0
    assert "1 cached" in run()[0]
    _write(project / "components", "helpers.py", "SCALE = 5.0\n")
    stderr, value = run()
    assert value == 15.0 and "1 cached" not in stderr and "code changed" in stderr


def test_relative_module_files_resolve_against_the_declaring_file(tmp_path, monkeypatch):
    @component
    def reads(out: OutputArtifact[Numbers], module_file: Parameter[ModuleFile] = "") -> None:
        write_numbers(out, [1.0])

    monkeypatch.chdir(tmp_path)
    node = reads(module_file="helpers/module.py")
    assert node.parameters["module_file"] == os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers", "module.py")


def test_runs_of_a_pipeline_that_never_ran_create_no_store(tmp_path, pipeline_root):
    path = _write(
        tmp_path,
        "never.py",
        f"from toy_components import generate\nfrom pipelinekit import Pipeline\npipeline = Pipeline('never', {pipeline_root!r}, [generate()])\n",
    )
    env = _env()
    result = subprocess.run(
        [sys.executable, "-m", "pipelinekit", "runs", path], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "has not run yet" in result.stderr
    assert not os.path.exists(pipeline_root)


def test_lineage_with_a_mistyped_node_suggests_the_right_one(tmp_path, pipeline_root):
    path = _write(
        tmp_path,
        "lin.py",
        f"from toy_components import generate\nfrom pipelinekit import Pipeline\npipeline = Pipeline('lin', {pipeline_root!r}, [generate()])\n",
    )
    LocalDagRunner().run(load_pipeline(path)).raise_for_failure()
    env = _env()
    result = subprocess.run(
        [sys.executable, "-m", "pipelinekit", "lineage", path, "generat.numbers"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "no node 'generat' (did you mean 'generate'?)" in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "pipelinekit", "lineage", path, "generate.number"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "no output 'number' (did you mean 'numbers'?)" in result.stderr


def test_an_unwritable_pipeline_root_is_named(tmp_path):
    if os.geteuid() == 0:
        locked = "/proc/pipelinekit-cannot-write-here"  # root ignores permission bits; /proc refuses everyone
    else:
        locked_folder = tmp_path / "locked"
        locked_folder.mkdir(mode=0o500)
        locked = str(locked_folder / "root")
    result = LocalDagRunner().run(Pipeline("locked", locked, [generate()], metadata=str(tmp_path / "m.sqlite")))
    error = str(result.nodes["generate"].error)
    assert "cannot write its outputs under" in error and "choose another pipeline_root" in error
    assert "<frozen" not in result.nodes["generate"].user_traceback


MULTI_PROCESSING_PIPELINE = """
    import os

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from toy_components import Numbers, write_numbers
    from pipelinekit import OutputArtifact, Pipeline, component

    def double(x):
        return x * 2

    def show(x):  # one write per line: print's two writes from two workers can interleave ("24")
        os.write(1, f"{x}\\n".encode())

    @component
    def beamy(out: OutputArtifact[Numbers]) -> None:
        options = PipelineOptions(["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
        with beam.Pipeline(options=options) as p:  # workers unpickle `double` by its module's name
            _ = p | beam.Create([1, 2, 3]) | beam.Map(double) | beam.Map(show)
        write_numbers(out, [1.0])

    pipeline = Pipeline("mp", ROOT, [beamy()])
"""


def test_a_pipeline_file_whose_name_is_no_module_name_runs_in_beam_worker_processes(tmp_path, pipeline_root):
    path = _write(tmp_path, "my-pipe.py", MULTI_PROCESSING_PIPELINE.replace("ROOT", repr(pipeline_root)))
    result = subprocess.run(
        [sys.executable, "-m", "pipelinekit", "run", path, "--no-cache"],
        env={**_env(), "TMPDIR": str(tmp_path)}, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "No module named" not in result.stderr and "1 ran" in result.stderr
    assert sorted(result.stdout.split()) == ["2", "4", "6"]
    assert [p for p in os.listdir(tmp_path) if p.startswith("pipelinekit-modules-")] == []  # the generated module is gone
