"""The penguin example end to end, as the quickstart runs it: raw CSV to a pushed model that
answers TensorFlow Serving's official gRPC client; then the reruns TFX's semantics allow."""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
PIPELINE = os.path.join(REPO, "examples", "penguin", "pipeline.py")
PREDICT = os.path.join(REPO, "examples", "penguin", "predict.py")
SPECIES = {"Adelie", "Chinstrap", "Gentoo"}

pytestmark = pytest.mark.slow


def _env(root: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "PENGUIN_ROOT": root, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def _run(root: str, **extra: str) -> dict[str, str]:
    """Run the pipeline through the CLI; returns node -> status, and checks TensorFlow was loaded
    only when a node actually ran."""
    probe = (
        "import sys; from pipelinekit.cli import main; code = main(sys.argv[1:]); "
        "print('TF_LOADED=' + str('tensorflow' in sys.modules), 'BEAM_LOADED=' + str('apache_beam' in sys.modules)); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "run", PIPELINE], cwd="/", env=_env(root, **extra), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-4000:]
    statuses = {}
    for line in result.stderr.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("ran", "cached", "skipped", "failed"):
            statuses[words[1]] = words[0]
    statuses["_tf_loaded"] = result.stdout.strip().rpartition("TF_LOADED=")[2].split()[0]
    statuses["_beam_loaded"] = result.stdout.strip().rpartition("BEAM_LOADED=")[2]
    return statuses


def _versions(root: str) -> list[str]:
    base = os.path.join(root, "serving_model", "penguin")
    return sorted(v for v in os.listdir(base) if v.isdigit()) if os.path.isdir(base) else []


@pytest.fixture(scope="module")
def penguin_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("penguin") / "root")
    first = _run(root, PENGUIN_TRAIN_STEPS="120")
    assert set(first) - {"_tf_loaded", "_beam_loaded"} == {
        "CsvExampleGen", "CsvExampleGen_Unlabelled", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Tuner",
        "Trainer", "latest_blessed_model_resolver", "Evaluator", "InfraValidator", "Pusher", "BulkInferrer",
    }  # fmt: skip
    assert all(status == "ran" for node, status in first.items() if not node.startswith("_")), first
    return root


def test_the_pushed_model_answers_the_official_grpc_client(penguin_root):
    versions = _versions(penguin_root)
    assert len(versions) == 1
    model_dir = os.path.join(penguin_root, "serving_model", "penguin")
    env = _env(penguin_root)
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelinekit", "serve", "--model_name=penguin", f"--model_base_path={model_dir}", "--port=0",
         "--rest_api_port=0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        port = _grpc_port(server)
        answer = subprocess.run(
            [sys.executable, PREDICT, "--server", f"127.0.0.1:{port}", "--model_dir", model_dir],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert answer.returncode == 0, answer.stderr[-3000:]
    lines = answer.stdout.strip().splitlines()
    assert len(lines) == 3 and all(line.split(" -> ")[1].split()[0] in SPECIES for line in lines), answer.stdout
    assert "Torgersen" in lines[0] and "-> Adelie" in lines[0]  # an unmistakable Adelie


def _grpc_port(server: subprocess.Popen) -> int:
    """The port from the server's first line, ``Serving ['penguin']: gRPC 127.0.0.1:PORT``."""
    ready, _, _ = select.select([server.stdout], [], [], 120)
    assert ready, "the server printed nothing in 120 s"
    line = server.stdout.readline()
    assert "gRPC 127.0.0.1:" in line, line
    return int(line.split("gRPC 127.0.0.1:")[1].split(",")[0].split()[0])


def test_reruns_redo_only_what_tfx_semantics_require(penguin_root):
    second = _run(penguin_root, PENGUIN_TRAIN_STEPS="120")
    ran = {node for node, status in second.items() if status == "ran"}
    assert ran == {"latest_blessed_model_resolver", "Evaluator"}, second  # the first model is now the baseline
    assert len(_versions(penguin_root)) == 1  # the same model is not pushed twice

    third = _run(penguin_root, PENGUIN_TRAIN_STEPS="120")
    assert {node for node, status in third.items() if status == "ran"} == {"latest_blessed_model_resolver"}, third
    assert (third["_tf_loaded"], third["_beam_loaded"]) == ("False", "False")  # a fully cached run imports neither


@pytest.mark.long  # 30 s more; the default suite keeps the reruns above
def test_a_trainer_hyperparameter_change_reruns_the_trainer_and_what_follows(penguin_root):
    changed = _run(penguin_root, PENGUIN_TRAIN_STEPS="121")
    reran = {node for node, status in changed.items() if status == "ran"}
    assert reran == {"latest_blessed_model_resolver", "Trainer", "Evaluator", "InfraValidator", "Pusher", "BulkInferrer"}, changed
