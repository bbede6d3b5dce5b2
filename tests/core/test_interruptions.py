"""Runs that survive kills and company: SIGTERM, Ctrl-C, SIGKILL, sys.exit in user code, several
processes on one store, and pipeline names that share a prefix (issue 6, items 6-9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from mlmd_helpers import raw_store, state_name
from toy_components import Numbers, write_numbers

from pipelinekit import LocalDagRunner, OutputArtifact, Parameter, Pipeline, component

PIPELINE = '''
import os, sys, time
from pipelinekit import Artifact, InputArtifact, OutputArtifact, Parameter, Pipeline, component

class Text(Artifact):
    """A text file."""

@component
def first(out: OutputArtifact[Text]) -> None:
    with open(os.path.join(out.uri, "t.txt"), "w") as f:
        f.write("data")

@component
def slow(text: InputArtifact[Text], out: OutputArtifact[Text], marker: Parameter[str] = "") -> None:
    with open(os.path.join(out.uri, "partial.txt"), "w") as f:
        f.write("half")
    if marker and not os.path.exists(marker + ".done"):
        open(marker, "w").close()
        time.sleep(60)
    with open(os.path.join(out.uri, "t.txt"), "w") as f:
        f.write("done")

@component
def exits(text: InputArtifact[Text], out: OutputArtifact[Text]) -> None:
    sys.exit(3)

a = first()
pipeline = Pipeline(NAME, ROOT, [slow(text=a.outputs["out"], marker=MARKER)] + EXTRA)
'''


def write_pipeline(tmp_path, root: str, name: str = "interrupted", marker: str = "", extra: str = "[]", file: str = "p.py") -> str:
    path = tmp_path / file
    source = PIPELINE.replace("NAME", repr(name)).replace("ROOT", repr(root)).replace("MARKER", repr(marker))
    path.write_text(source.replace("EXTRA", extra))
    return str(path)


def start(path: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "pipelinekit", "run", path, *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "the node never started"
        time.sleep(0.05)


def executions(root: str) -> dict[str, list[str]]:
    store = raw_store(root)
    found: dict[str, list[str]] = {}
    for execution in store.get_executions():
        found.setdefault(execution.custom_properties["node_id"].string_value, []).append(state_name(execution))
    return found


def run_statuses(root: str) -> list[str]:
    store = raw_store(root)
    return [c.custom_properties["status"].string_value for c in store.get_contexts_by_type("pipeline_run")]


def staging_left(root: str) -> list[str]:
    return [d for d in os.listdir(os.path.join(root, "slow")) if d == ".staging"] if os.path.isdir(os.path.join(root, "slow")) else []


@pytest.mark.parametrize(
    "runner, sent, code",
    [("local", signal.SIGTERM, 143), ("local", signal.SIGINT, 130), ("beam", signal.SIGTERM, 143), ("beam", signal.SIGINT, 130)],
)
def test_an_interrupted_run_is_marked_and_says_so_briefly(tmp_path, pipeline_root, runner, sent, code):
    marker = str(tmp_path / "started")
    path = write_pipeline(tmp_path, pipeline_root, marker=marker)
    process = start(path, "--runner", runner)
    wait_for(marker, process)
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert f"interrupted by {signal.Signals(sent).name}" in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) < 12, stderr
    assert executions(pipeline_root)["slow"] == ["CANCELED"]
    assert run_statuses(pipeline_root) == ["INTERRUPTED"]
    assert staging_left(pipeline_root) == []

    open(marker + ".done", "w").close()
    rerun = start(path, "--runner", "local")
    _, stderr = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, stderr
    assert executions(pipeline_root)["first"] == ["COMPLETE", "CACHED"]


def test_a_killed_run_is_cleaned_up_by_the_next_one(tmp_path, pipeline_root):
    marker = str(tmp_path / "started")
    path = write_pipeline(tmp_path, pipeline_root, marker=marker)
    process = start(path, "--runner", "local")
    wait_for(marker, process)
    assert os.path.isdir(os.path.join(pipeline_root, "slow", ".staging"))
    process.kill()
    process.communicate()
    assert executions(pipeline_root)["slow"] == ["RUNNING"]

    open(marker + ".done", "w").close()
    rerun = start(path, "--runner", "local")
    _, stderr = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, stderr
    assert "left RUNNING by a dead process: marked CANCELED" in stderr
    assert "marked ABANDONED" in stderr
    assert executions(pipeline_root)["slow"] == ["CANCELED", "COMPLETE"]
    assert sorted(run_statuses(pipeline_root)) == ["ABANDONED", "COMPLETE"]
    assert staging_left(pipeline_root) == []
    assert "first run of this node" not in stderr and "no difference in the key parts" not in stderr
    assert "with this key was CANCELED (abandoned: process" in " ".join(stderr.split()), stderr  # progress lines wrap


def test_sys_exit_in_user_code_fails_only_that_node(tmp_path, pipeline_root):
    path = write_pipeline(tmp_path, pipeline_root, extra='[exits(text=a.outputs["out"])]')
    for runner in ("local", "beam"):
        process = start(path, "--runner", runner, "--no-cache")
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 1, stderr
        assert "SystemExit: 3" in stderr and "node 'exits'" in stderr
    found = executions(pipeline_root)
    assert found["exits"] == ["FAILED", "FAILED"] and found["slow"] == ["COMPLETE", "COMPLETE"]


def test_concurrent_runs_on_a_new_store_all_succeed(tmp_path):
    for trial in range(3):
        root = str(tmp_path / f"root{trial}")
        path = write_pipeline(tmp_path, root, file=f"p{trial}.py")
        processes = [start(path, "--runner", "local") for _ in range(4)]
        outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
        for returncode, stderr in outcomes:
            assert returncode == 0, stderr
            assert "UNIQUE constraint" not in stderr
        assert set(executions(root)["first"]) <= {"COMPLETE", "CACHED"}


def test_pipelines_whose_names_share_a_prefix_keep_their_runs_apart(tmp_path, pipeline_root):
    for name in ("demo", "demo.v2"):
        process = start(write_pipeline(tmp_path, pipeline_root, name=name, file=f"{name}.py"), "--runner", "local")
        assert process.wait(timeout=60) == 0, process.stderr.read()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for name in ("demo", "demo.v2"):
        listed = subprocess.run(
            [sys.executable, "-m", "pipelinekit", "runs", "--metadata", os.path.join(pipeline_root, "metadata.sqlite"),
             "--pipeline-name", name],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert listed.stdout.count("COMPLETE") == 1, listed.stdout
    second = start(write_pipeline(tmp_path, pipeline_root, name="demo", file="demo.py"), "--runner", "local")
    _, stderr = second.communicate(timeout=60)
    assert second.returncode == 0 and "2 cached" in stderr, stderr


def test_a_context_created_by_another_process_between_lookup_and_insert_is_reused(tmp_path):
    from pipelinekit.dsl.metadata_config import sqlite_metadata
    from pipelinekit.metadata.store import PIPELINE, MetadataStore

    config = sqlite_metadata(str(tmp_path / "metadata.sqlite"))
    winner, loser = MetadataStore(config), MetadataStore(config)
    created = winner.context(PIPELINE, "raced")
    lookup = loser.raw.get_context_by_type_and_name
    calls = []

    def stale_lookup(type_name, name):  # what the loser saw just before the winner inserted
        calls.append(name)
        return None if len(calls) == 1 else lookup(type_name, name)

    loser._store = type("Raced", (), {"__getattr__": lambda self, a: getattr(winner.raw, a)})()
    loser._store.get_context_by_type_and_name = stale_lookup
    assert loser.context(PIPELINE, "raced").id == created.id



@component
def flaky(out: OutputArtifact[Numbers], marker: Parameter[str] = "") -> None:
    if not os.path.exists(marker):
        raise RuntimeError("the marker is missing")
    write_numbers(out, [1.0])


def test_a_rerun_after_a_failure_with_the_same_key_says_so(tmp_path, pipeline_root):
    marker = str(tmp_path / "ready")
    first = LocalDagRunner().run(Pipeline("flaky", pipeline_root, [flaky(marker=marker)]))
    assert first.nodes["flaky"].status == "failed"
    open(marker, "w").close()
    second = LocalDagRunner().run(Pipeline("flaky", pipeline_root, [flaky(marker=marker)]))
    execution = first.nodes["flaky"].execution_id
    assert second.nodes["flaky"].reason.startswith(f"previous execution {execution} with this key was FAILED (node 'flaky'")
    assert "the marker is missing" in second.nodes["flaky"].reason


def _open_store(path: str) -> str:
    from pipelinekit.dsl.metadata_config import sqlite_metadata
    from pipelinekit.metadata.store import MetadataStore

    try:
        MetadataStore(sqlite_metadata(path))
    except Exception as error:  # reported to the parent, which names it
        return f"{type(error).__name__}: {error}"
    return "ok"


def test_processes_opening_a_new_sqlite_store_together_all_get_it(tmp_path):
    """MLMD refuses a half-created schema and its creator can fail on a locked file, so without
    serialising the open one of 8 processes failed in about 1 of 10 trials."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(8) as pool:
        for trial in range(30):
            path = str(tmp_path / f"store{trial}" / "metadata.sqlite")
            outcomes = pool.map(_open_store, [path] * 8)
            assert outcomes == ["ok"] * 8, f"trial {trial}: {outcomes}"
