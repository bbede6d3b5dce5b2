"""The speed measures change no result: each penguin node that builds a Beam pipeline, replayed
on the inputs a run recorded but with Beam's default pickler (dill) instead of the cloudpickle
that executors' in-process pipelines use (``dsl/beam_pickling.py``), writes the same outputs:
records as multisets, statistics and metrics within float tolerance, schemas byte for byte. The
comparison is the Flink tests' (``tests/flink/flink_helpers.py``)."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from pipelinekit import BeamDagRunner

pytestmark = [pytest.mark.slow, pytest.mark.long]

HERE = os.path.dirname(os.path.abspath(__file__))


def _helpers():
    spec = importlib.util.spec_from_file_location(
        "flink_helpers_for_penguin", os.path.join(HERE, os.pardir, "flink", "flink_helpers.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


helpers = _helpers()


@pytest.fixture(scope="module")
def penguin_run(tmp_path_factory):
    pipeline = helpers.load_penguin(str(tmp_path_factory.mktemp("penguin_same") / "root"))
    result = BeamDagRunner().run(pipeline)
    assert result.succeeded, {n: r.error for n, r in result.nodes.items() if r.error}
    return pipeline, result


@pytest.mark.parametrize("node_id", helpers.BEAM_NODES)
def test_outputs_equal_those_made_with_beam_s_default_pickler(penguin_run, node_id, tmp_path):
    pipeline, result = penguin_run
    plain = helpers.rerun_on_direct_runner(pipeline, result, node_id, str(tmp_path), ["--pickle_library=dill"])
    helpers.assert_same_outputs(node_id, result.nodes[node_id].outputs, plain)
