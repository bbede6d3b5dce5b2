"""The penguin pipeline on a real Flink session cluster (scripts/flink_cluster.sh), with a
MySQL metadata store when PIPELINEKIT_TEST_MYSQL is set: only the Flink arguments are added.

Every Beam-using node's job must be FINISHED in Flink's REST API under its own name, and each
node's outputs must equal what the DirectRunner makes from the same inputs: the Flink run's
recorded inputs are handed to the same executor on the DirectRunner, and the two outputs are
compared (records as multisets, statistics and metrics within float tolerance).

Run by .ci/run's Flink stage: ``pytest -m flink tests/flink`` with the cluster up.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import pytest
from flink_helpers import (
    BEAM_NODES,
    REPO,
    assert_same_outputs,
    flink_args,
    load_penguin,
    rerun_on_direct_runner,
)

from pipelinekit import BeamDagRunner, mysql_metadata

pytestmark = [pytest.mark.flink, pytest.mark.slow]


@pytest.fixture(scope="module")
def flink_run(tmp_path_factory):
    args = flink_args()
    root = str(tmp_path_factory.mktemp("penguin_flink") / "root")
    os.environ.setdefault("PENGUIN_TRAIN_STEPS", "120")
    pipeline = load_penguin(root)
    pipeline.beam_pipeline_args.extend(args)
    mysql = os.environ.get("PIPELINEKIT_TEST_MYSQL")
    if mysql:
        host, port, database, user, password = mysql.split(":")
        pipeline.metadata = mysql_metadata(host, database, user, password, port=int(port))
        pipeline.pipeline_name = f"penguin_flink_{os.getpid()}"  # the server may hold an earlier test's runs
    result = BeamDagRunner().run(pipeline)
    return pipeline, result, args


def test_every_node_runs_and_each_beam_node_is_a_finished_flink_job(flink_run):
    pipeline, result, args = flink_run
    assert result.succeeded, {n: r.error for n, r in result.nodes.items() if r.error}
    assert all(r.status == "ran" for r in result.nodes.values() if r.node_id != "latest_blessed_model_resolver")
    rest = next(a.split("=", 1)[1] for a in args if a.startswith("--flink_master="))
    with urllib.request.urlopen(f"http://{rest}/jobs/overview", timeout=10) as response:
        jobs = {job["name"]: job["state"] for job in json.load(response)["jobs"]}
    for node_id in BEAM_NODES:
        name = f"pipelinekit-{pipeline.pipeline_name}-{node_id}-{result.nodes[node_id].execution_id}"
        assert jobs.get(name) == "FINISHED", (name, sorted(jobs))


# Transform's floats differ from the DirectRunner's by float32 ulps (its mean-and-var analyzer's
# batches follow the runner's bundles): flink_helpers compares its analyzer outputs and records
# within tolerances derived from that (docs/SCALE.md).
@pytest.mark.parametrize("node_id", BEAM_NODES)
def test_outputs_equal_the_direct_runners_on_the_same_inputs(flink_run, node_id, tmp_path):
    pipeline, result, _ = flink_run
    assert result.succeeded
    direct = rerun_on_direct_runner(pipeline, result, node_id, str(tmp_path))
    assert_same_outputs(node_id, result.nodes[node_id].outputs, direct)


def test_the_cluster_script_reports_what_runs():
    status = subprocess.run(
        [os.path.join(REPO, "scripts", "flink_cluster.sh"), "status"], capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0 and "Flink 1.19.1 on localhost" in status.stdout and "TaskManagers" in status.stdout
