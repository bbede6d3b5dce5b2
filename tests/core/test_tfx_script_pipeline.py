"""A pipeline file written as TFX writes one (TFX's penguin example's constructs): TFMA imported
for its EvalConfig, the pipeline built under ``if __name__ == "__main__":`` and handed to
``tfx.orchestration.LocalDagRunner().run``, module_file paths, a LatestBlessedModelStrategy and a
LatestArtifactStrategy resolver. ``pipelinekit run`` runs it, and a fully cached rerun imports
neither TensorFlow nor TFMA's package (they cost seconds; the rerun needs neither)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    '''
    """TFX's style: flags, TFMA for the EvalConfig, the pipeline built and run under __main__."""
    import os
    import sys

    import tensorflow_model_analysis as tfma
    from absl import flags

    from pipelinekit import tfx
    from pipelinekit.tfx.utils import proto_utils

    flags.DEFINE_string("steps", "3", "training steps")
    _root = os.environ["SCRIPT_ROOT"]


    @tfx.dsl.components.component
    def Train(
        module_file: tfx.dsl.components.Parameter[str],
        eval_config: tfx.dsl.components.Parameter[str],
        model: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.Model],
        steps: tfx.dsl.components.Parameter[int] = 1,
    ) -> None:
        with open(module_file) as handle, open(os.path.join(model.uri, "model.txt"), "w") as out:
            out.write(f"{len(handle.read())} {steps} {eval_config}")


    @tfx.dsl.components.component
    def Bless(
        model: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Model],
        blessing: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.ModelBlessing],
    ) -> None:
        blessing.set_custom_property("blessed", 1)


    def create_pipeline(module_file: str, steps: int) -> tfx.dsl.Pipeline:
        eval_config = tfma.EvalConfig(
            model_specs=[tfma.ModelSpec(label_key="species")],
            slicing_specs=[tfma.SlicingSpec()],
            metrics_specs=[
                tfma.MetricsSpec(
                    metrics=[
                        tfma.MetricConfig(
                            class_name="SparseCategoricalAccuracy",
                            threshold=tfma.MetricThreshold(
                                value_threshold=tfma.GenericValueThreshold(lower_bound={"value": 0.6}),
                                change_threshold=tfma.GenericChangeThreshold(
                                    direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -1e-10}
                                ),
                            ),
                        )
                    ]
                )
            ],
        )
        cache_resolver = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestArtifactStrategy,
            cache=tfx.dsl.Channel(type=tfx.types.standard_artifacts.TransformCache),
        ).with_id("transform_cache_resolver")
        train = Train(module_file=module_file, eval_config=proto_utils.proto_to_json(eval_config), steps=steps)
        bless = Bless(model=train.outputs["model"])
        model_resolver = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
            model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
        ).with_id("latest_blessed_model_resolver")
        return tfx.dsl.Pipeline(
            pipeline_name="script_style",
            pipeline_root=os.path.join(_root, "pipelines"),
            components=[cache_resolver, train, bless, model_resolver],
            enable_cache=True,
            metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
                os.path.join(_root, "metadata.db")
            ),
            beam_pipeline_args=["--direct_num_workers=0"],
        )


    if __name__ == "__main__":
        flags.FLAGS(sys.argv)
        module_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "module.py")
        tfx.orchestration.LocalDagRunner().run(create_pipeline(module_file, int(flags.FLAGS.steps)))
        print("SCRIPT_RAN_ITS_OWN_RUNNER")
    '''
)

PROBE = (
    "import sys; from pipelinekit.cli import main; code = main(sys.argv[1:]); "
    "print('LOADED=' + ','.join(m for m in ('tensorflow', 'tensorflow_model_analysis.api') if m in sys.modules)); "
    "sys.exit(code)"
)


def _write(folder) -> str:
    (folder / "module.py").write_text("def run_fn(fn_args):\n    import tensorflow\n")
    path = folder / "penguin_style_pipeline.py"
    path.write_text(SCRIPT)
    return str(path)


def _cli_run(path: str, root: str) -> tuple[dict[str, str], str, str]:
    """``pipelinekit run`` in a fresh process from another folder: node -> status, the heavy
    modules it imported, and its stdout."""
    env = {**os.environ, "SCRIPT_ROOT": root, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "run", path], cwd="/", env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    statuses = {}
    for line in result.stderr.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("ran", "cached", "skipped", "failed"):
            statuses[words[1]] = words[0]
    return statuses, result.stdout.rpartition("LOADED=")[2].strip(), result.stdout


def test_script_style_file_runs_through_the_cli_and_its_cached_rerun_imports_no_tensorflow(tmp_path):
    path, root = _write(tmp_path), str(tmp_path / "root")
    first, _, stdout = _cli_run(path, root)
    assert first == {"transform_cache_resolver": "ran", "Train": "ran", "Bless": "ran", "latest_blessed_model_resolver": "ran"}
    assert "SCRIPT_RAN_ITS_OWN_RUNNER" not in stdout  # the CLI ran the pipeline; the script stopped at run()
    with open(_model_file(root)) as handle:
        assert handle.read().startswith(f"{len((tmp_path / 'module.py').read_text())} 3 ")
    again, loaded, _ = _cli_run(path, root)
    resolvers = {"transform_cache_resolver", "latest_blessed_model_resolver"}  # resolvers read the store each run
    assert again == {node: "ran" if node in resolvers else "cached" for node in first}, again
    assert loaded == "", f"a fully cached rerun imported {loaded}"


def _model_file(root: str) -> str:
    found = [os.path.join(d, "model.txt") for d, _, files in os.walk(root) if "model.txt" in files]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.slow
def test_deferred_tfma_gives_the_very_objects_of_a_full_import():
    """Configuration names first without TensorFlow, then any other name imports TFMA in full;
    the classes seen before are TFMA's own (``tfma.EvalConfig is config_pb2.EvalConfig``)."""
    code = textwrap.dedent(
        """
        import sys, threading
        from pipelinekit.dsl.deferred_tfma import defer_tfma
        defer_tfma()
        import tensorflow_model_analysis as tfma
        config_class = tfma.EvalConfig
        config = tfma.EvalConfig(model_specs=[tfma.ModelSpec(label_key="y")])
        assert "tensorflow" not in sys.modules, "configuration names imported TensorFlow"
        results = []
        threads = [threading.Thread(target=lambda: results.append(tfma.run_model_analysis)) for _ in range(3)]
        [t.start() for t in threads]; [t.join() for t in threads]
        assert len(set(results)) == 1 and "tensorflow" in sys.modules
        from tensorflow_model_analysis.proto import config_pb2
        from tensorflow_model_analysis import metrics
        assert tfma.EvalConfig is config_class is config_pb2.EvalConfig and metrics.MeanLabel
        assert "__getattr__" not in vars(tfma)
        try:
            tfma.NoSuchName
        except AttributeError as error:
            assert "NoSuchName" in str(error)
        else:
            raise AssertionError("a missing name resolved")
        print("OK", config.model_specs[0].label_key)
        """
    )
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "OK y", result.stderr[-4000:]


OWN_RUNNER_SCRIPT = textwrap.dedent(
    """
    import sys
    from pipelinekit.dsl import Pipeline
    from pipelinekit.orchestration import LocalDagRunner

    ARGV = list(sys.argv)


    def build(name):
        return Pipeline(name, "/nonexistent/root", [])


    if "__main__" == __name__:
        LocalDagRunner().run(build("handed"))
        raise AssertionError("the loader let the script's runner run")
    """
)


def test_a_script_hands_its_pipeline_once_with_only_its_path_in_argv(tmp_path, monkeypatch):
    """pipelinekit's own runner hands over too; the script sees ``sys.argv == [path]`` (the CLI's
    ``--runner local`` is not its flag), and the CLI's argv comes back afterwards."""
    from pipelinekit.dsl.loader import load_pipeline

    path = tmp_path / "own_runner_script.py"
    path.write_text(OWN_RUNNER_SCRIPT)
    monkeypatch.setattr(sys, "argv", ["pipelinekit", "run", "--runner", "local", str(path)])
    pipeline = load_pipeline(str(path))
    assert pipeline.pipeline_name == "handed"
    assert sys.modules["own_runner_script"].ARGV == [str(path)]
    assert sys.argv == ["pipelinekit", "run", "--runner", "local", str(path)]


def test_a_script_that_runs_no_runner_falls_back_to_its_top_level_pipeline(tmp_path):
    from pipelinekit.dsl.loader import load_pipeline
    from pipelinekit.errors import DefinitionError

    path = tmp_path / "plain_script.py"
    path.write_text(
        "from pipelinekit.dsl import Pipeline\npipeline = Pipeline('top', '/nonexistent', [])\n"
        "if __name__ == '__main__':\n    print('main block')\n"
    )
    assert load_pipeline(str(path)).pipeline_name == "top"
    broken = tmp_path / "broken_script.py"
    broken.write_text("import os\n\nif __name__ == '__main__':\n    raise ValueError('no data folder')\n")
    with pytest.raises(DefinitionError, match=r"broken_script.py, line 4 raised ValueError: no data folder"):
        load_pipeline(str(broken))


def test_the_deferred_config_names_are_those_tfma_exports_from_its_config_protos():
    """TFMA's ``sdk.py`` lists what ``tfma.`` re-exports from ``proto.config_pb2``; a TFMA upgrade
    that changes it shows here (read as text: importing TFMA would import TensorFlow)."""
    import ast
    import importlib.util

    from pipelinekit.dsl.deferred_tfma import CONFIG_NAMES

    spec = importlib.util.find_spec("tensorflow_model_analysis")
    assert spec is not None and spec.submodule_search_locations
    with open(os.path.join(spec.submodule_search_locations[0], "sdk.py")) as handle:
        tree = ast.parse(handle.read())
    exported = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "tensorflow_model_analysis.proto.config_pb2"
        for alias in node.names
    }
    assert exported == CONFIG_NAMES
