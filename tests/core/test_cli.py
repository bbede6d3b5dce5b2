"""The pipelinekit command, run as a user would run it, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GOOD = '''
import json, os
from pipelinekit import Artifact, InputArtifact, OutputArtifact, Parameter, Pipeline, component

class Text(Artifact):
    """A text file."""

@component
def write(out: OutputArtifact[Text], words: Parameter[int] = 3):
    with open(os.path.join(out.uri, "t.txt"), "w") as f:
        f.write(" ".join(["word"] * words))

@component
def count(text: InputArtifact[Text], out: OutputArtifact[Text], fail: Parameter[bool] = FAIL):
    if fail:
        raise RuntimeError("cannot count today")
    with open(os.path.join(text.uri, "t.txt")) as f, open(os.path.join(out.uri, "n.txt"), "w") as g:
        g.write(str(len(f.read().split())))

w = write()
pipeline = Pipeline("cli_demo", ROOT, [count(text=w.outputs["out"])])
'''


def pipelinekit(*args: str, cwd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "pipelinekit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def pipeline_file(tmp_path, pipeline_root):
    def make(fail: bool = False) -> str:
        path = tmp_path / "pipeline.py"
        path.write_text(GOOD.replace("ROOT", repr(pipeline_root)).replace("FAIL", repr(fail)))
        return str(path)

    return make


def test_run_then_rerun_cached_then_runs_and_lineage(pipeline_file, tmp_path):
    path = pipeline_file()
    first = pipelinekit("run", path, "--runner", "local", cwd=str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "ran write" in " ".join(first.stderr.split()) and "COMPLETE" in first.stderr

    second = pipelinekit("run", path, cwd=str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert "2 cached" in second.stderr and "cache hit" in second.stderr

    runs = pipelinekit("runs", path, cwd=str(tmp_path))
    assert runs.returncode == 0 and runs.stdout.count("COMPLETE") == 2

    lineage = pipelinekit("lineage", path, "count.out", cwd=str(tmp_path))
    assert lineage.returncode == 0, lineage.stderr
    assert "produced by count execution" in lineage.stdout and "produced by write execution" in lineage.stdout

    by_store = pipelinekit("runs", "--metadata", os.path.join(str(tmp_path), "root", "metadata.sqlite"), cwd=str(tmp_path))
    assert by_store.returncode == 0 and "runs of cli_demo" in by_store.stdout


def test_a_failing_run_exits_1_and_shows_the_users_frame(pipeline_file, tmp_path):
    result = pipelinekit("run", pipeline_file(fail=True), "--runner", "local", cwd=str(tmp_path))
    assert result.returncode == 1
    assert "node 'count'" in result.stderr and "RuntimeError: cannot count today" in result.stderr
    runs = pipelinekit("runs", pipeline_file(fail=True), cwd=str(tmp_path))
    assert "FAILED" in runs.stdout and "count" in runs.stdout.split("FAILED")[1]
    assert 'raise RuntimeError("cannot count today")' in result.stderr
    assert "the nodes that finished are cached" in result.stderr


def test_compile_errors_exit_2_with_every_problem(tmp_path, pipeline_root):
    path = tmp_path / "broken.py"
    path.write_text(
        GOOD.replace("ROOT", repr(pipeline_root))
        .replace("FAIL", "False")
        .replace('count(text=w.outputs["out"])', 'count(txt=w.outputs["out"], fail="yes")')
    )
    result = pipelinekit("check", str(path), cwd=str(tmp_path))
    assert result.returncode == 2
    assert "unknown argument 'txt' (did you mean 'text'?)" in result.stderr
    assert "required input 'text' (Text) is not wired" in result.stderr
    assert "parameter 'fail': expected bool, got str 'yes'" in result.stderr


def test_check_shows_layers_and_help_lists_commands(pipeline_file, tmp_path):
    result = pipelinekit("check", pipeline_file(), cwd=str(tmp_path))
    assert result.returncode == 0 and "layer 1: count" in result.stdout
    helped = pipelinekit("--help", cwd=str(tmp_path))
    for command in ("run", "check", "runs", "lineage", "serve"):
        assert command in helped.stdout


EXIT_HOOKS = """
import atexit, os, sys, threading, time

def _late_write():
    time.sleep(0.5)
    with open(MARKER + ".thread", "w") as handle:
        handle.write("written by a non-daemon thread after the run")

class _TornDown:
    _os = os  # module globals may be gone when the interpreter tears this module down

    def __del__(self):
        self._os.close(self._os.open(MARKER + ".teardown", self._os.O_WRONLY | self._os.O_CREAT, 0o644))

_torn_down = _TornDown()
atexit.register(lambda: open(MARKER + ".atexit", "w").write("atexit ran"))
threading.Thread(target=_late_write).start()
print("x" * 100_000, end="")  # a buffered stdout that must reach the pipe
"""


@pytest.mark.parametrize("fail", [False, True])
def test_the_fast_exit_keeps_the_exit_code_threads_atexit_and_output(pipeline_file, tmp_path, fail):
    """After a run the CLI skips Python's teardown of TensorFlow and Beam (os._exit), but only
    after what that teardown does that matters: threads joined, atexit run, streams flushed."""
    path = pipeline_file(fail=fail)
    marker = str(tmp_path / "marker")
    with open(path, "a") as handle:
        handle.write(EXIT_HOOKS.replace("MARKER", repr(marker)))
    result = pipelinekit("run", path, "--runner", "local", cwd=str(tmp_path))
    assert result.returncode == (1 if fail else 0), result.stderr
    assert os.path.exists(marker + ".thread") and os.path.exists(marker + ".atexit")
    assert not os.path.exists(marker + ".teardown"), "the slow teardown ran: the fast exit was not taken"
    assert result.stdout.count("x") >= 100_000
    assert ("FAILED" if fail else "COMPLETE") in result.stderr
