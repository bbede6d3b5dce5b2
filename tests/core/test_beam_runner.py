"""BeamDagRunner: node-by-node scheduling, its worker count, its own Beam options, and stopping
early. Overlap and order are read back from the started/finished times recorded in MLMD."""

from __future__ import annotations

import _thread
import logging
import threading
import time
import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlmd_helpers import raw_store
from toy_components import Numbers, combine, generate, read_numbers, scale, write_numbers

from pipelinekit import BeamDagRunner, InputArtifact, LocalDagRunner, OutputArtifact, Pipeline, component
from pipelinekit.errors import DefinitionError
from pipelinekit.orchestration.scheduling import ReadyQueue
from pipelinekit.orchestration.session import RunSession


def spans(pipeline_root: str) -> dict[str, tuple[float, float]]:
    """node id -> (started_at, finished_at) of its executions that ran, from MLMD."""
    found = {}
    for execution in raw_store(pipeline_root).get_executions():
        props = execution.custom_properties
        if "finished_at" in props and execution.last_known_state == execution.COMPLETE:
            found[props["node_id"].string_value] = (props["started_at"].double_value, props["finished_at"].double_value)
    return found


def most_at_once(intervals) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def run_statuses(pipeline_root: str) -> list[str]:
    return [c.custom_properties["status"].string_value for c in raw_store(pipeline_root).get_contexts_by_type("pipeline_run")]


def assert_each_node_started_after_its_inputs(pipeline: Pipeline, times: dict[str, tuple[float, float]]) -> None:
    from pipelinekit import compile_pipeline

    plan = compile_pipeline(pipeline)
    for node_id, ups in plan.upstream.items():
        for up in ups:
            assert times[up][1] <= times[node_id][0], f"{node_id} started before its input {up} finished"


def slow_branch_and_fast_chain(root: str, slow_s: float) -> Pipeline:
    """generate -> slow (one node, ``slow_s``) and generate -> f1 -> f2 -> f3 (fast), joined at the end.
    By layers, f2 and f3 would wait for slow, which shares layer 1 with f1."""
    g = generate(count=3)
    slow = scale(numbers=g.outputs["numbers"], delay=slow_s).with_id("slow")
    chain = g
    for index in (1, 2, 3):
        chain = scale(numbers=chain.outputs["numbers" if index == 1 else "scaled"], factor=1.0).with_id(f"f{index}")
    return Pipeline("staircase", root, [combine(left=slow.outputs["scaled"], right=chain.outputs["scaled"])])


def test_a_node_starts_as_soon_as_its_own_inputs_exist_not_its_whole_layer(pipeline_root):
    pipeline = slow_branch_and_fast_chain(pipeline_root, slow_s=1.0)
    result = BeamDagRunner().run(pipeline)
    result.raise_for_failure()
    times = spans(pipeline_root)
    assert times["f3"][1] < times["slow"][1], f"the fast chain waited for the slow node: {times}"
    assert_each_node_started_after_its_inputs(pipeline, times)
    assert read_numbers(result.output("combine", "total")) == [0.0, 3.0, 6.0]


def wide(root: str, width: int, delay: float) -> Pipeline:
    g = generate(count=2)
    return Pipeline("wide", root, [scale(numbers=g.outputs["numbers"], delay=delay).with_id(f"s{i}") for i in range(width)])


def test_max_parallel_caps_the_nodes_running_at_once_and_says_so(pipeline_root, caplog):
    with caplog.at_level(logging.INFO, logger="pipelinekit.run"):
        BeamDagRunner(max_parallel=3).run(wide(pipeline_root, width=5, delay=0.4)).raise_for_failure()
    times = spans(pipeline_root)
    assert most_at_once([times[f"s{i}"] for i in range(5)]) == 3, times  # 3 on a 2-core machine too
    assert "6 nodes on Beam's DirectRunner (multi_threading), 3 at a time (limit 3)" in caplog.text


def test_workers_default_to_the_cores_but_never_exceed_what_the_dag_can_use(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert BeamDagRunner().options.workers(100) == 6
    assert BeamDagRunner().options.workers(1) == 1  # a chain
    assert BeamDagRunner(max_parallel=12).options.workers(100) == 12
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert BeamDagRunner().options.workers(100) == 2  # independent branches still overlap


def test_orchestrator_args_that_apply_are_used():
    runner = BeamDagRunner(
        beam_orchestrator_args=["--runner=DirectRunner", "--direct_running_mode=multi_threading", "--direct_num_workers", "5"]
    )
    assert runner.options.workers(100) == 5
    assert BeamDagRunner(max_parallel=5, beam_orchestrator_args=["--direct_num_workers=5"]).options.workers(100) == 5
    assert BeamDagRunner(beam_orchestrator_args=["--runner=direct", "--direct_num_workers=0"]).options.max_workers is None


@pytest.mark.parametrize(
    "args, max_parallel, message",
    [
        (["--runner=FlinkRunner"], None, r"--runner=FlinkRunner: .*DirectRunner.*beam_pipeline_args"),
        (["--direct_running_mode=in_memory"], None, r"in_memory runs one node at a time.*max_parallel=1"),
        (["--direct_running_mode=multi_processing"], None, r"multi_processing: nodes must run in this process"),
        (["--direct_running_mode=bogus"], None, r"--direct_running_mode=bogus: .*only in multi_threading"),
        (["--direct_num_workers=two"], None, r"invalid int value: 'two'"),
        (["--direct_num_workers=-1"], None, r"at least 1"),
        (["--direct_num_workers=3"], 2, r"contradicts max_parallel=2"),
        (["--direct_num_worker=3"], None, r"--direct_num_worker is not a Beam option; did you mean --direct_num_workers\?"),
        (["--temp_location=/tmp/x"], None, r"--temp_location is a Beam option the orchestrator does not use.*--beam-arg"),
        (["--runner", "SparkRunner", "--flink_master=x"], None, r"2 problems|--runner=SparkRunner(.|\n)*--flink_master"),
        (["direct_num_workers=3"], None, r"'direct_num_workers=3' is not an option; write options as --name=value"),
        ("--direct_num_workers=2", None, r"must be a list of strings"),
        ([], 0, r"max_parallel must be a whole number of nodes, at least 1, got 0"),
        ([], True, r"max_parallel must be .* got True"),
    ],
)
def test_orchestrator_args_that_do_not_apply_are_rejected_with_the_reason(args, max_parallel, message):
    with pytest.raises(DefinitionError, match=message):
        BeamDagRunner(max_parallel=max_parallel, beam_orchestrator_args=args)


def test_every_rejected_option_is_listed_at_once():
    with pytest.raises(DefinitionError) as caught:
        BeamDagRunner(beam_orchestrator_args=["--runner=FlinkRunner", "--direct_running_mode=in_memory", "--nonsense"])
    text = str(caught.value)
    assert "--runner=FlinkRunner" in text and "in_memory" in text and "--nonsense is not a Beam option" in text


@component
def interrupts(numbers: InputArtifact[Numbers], out: OutputArtifact[Numbers]) -> None:
    """Presses Ctrl-C for the user: a KeyboardInterrupt lands in the main thread, as from the terminal."""
    _thread.interrupt_main()
    time.sleep(0.5)
    write_numbers(out, read_numbers(numbers))


@pytest.mark.parametrize("runner", [BeamDagRunner, LocalDagRunner])
def test_ctrl_c_abandons_the_run_and_reraises_the_interrupt_without_the_runners_internals(pipeline_root, runner):
    g = generate()
    pipeline = Pipeline("ctrl_c", pipeline_root, [interrupts(numbers=g.outputs["numbers"])])
    with pytest.raises(KeyboardInterrupt) as caught:
        runner().run(pipeline)
        time.sleep(2)  # the interrupt may land just after the node returned
    frames = [frame.filename for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert not [f for f in frames if "apache_beam" in f or "concurrent" in f], frames
    assert len(frames) <= 4, frames
    assert run_statuses(pipeline_root) == ["INTERRUPTED"]


def test_a_failure_of_the_runner_itself_stops_every_worker_and_surfaces_as_itself(pipeline_root, monkeypatch):
    real_run_node = RunSession.run_node
    started = []

    def run_node(self, node_id):
        started.append(node_id)
        if node_id == "s0":
            raise LookupError("the store went away")
        time.sleep(0.2)
        return real_run_node(self, node_id)

    monkeypatch.setattr(RunSession, "run_node", run_node)
    with pytest.raises(LookupError, match="the store went away"):
        BeamDagRunner(max_parallel=2).run(wide(pipeline_root, width=6, delay=0.0))
    assert len(started) <= 3, f"workers went on after the failure: {started}"
    assert run_statuses(pipeline_root) == ["ABORTED"]


def test_a_failed_node_skips_only_its_downstream_while_the_other_branch_goes_on(pipeline_root):
    from test_runners import maybe_fail

    g = generate(count=3)
    broken = maybe_fail(numbers=g.outputs["numbers"], fail=True)
    after = scale(numbers=broken.outputs["result"]).with_id("after")
    independent = scale(numbers=g.outputs["numbers"], delay=0.2).with_id("independent")
    result = BeamDagRunner().run(Pipeline("partly", pipeline_root, [after, independent]))
    assert {n: r.status for n, r in result.nodes.items()} == {
        "generate": "ran",
        "maybe_fail": "failed",
        "after": "skipped",
        "independent": "ran",
    }
    assert "bad row 3" in str(result.nodes["maybe_fail"].error)
    assert run_statuses(pipeline_root) == ["FAILED"]


def test_a_fully_cached_rerun_never_starts_beam(pipeline_root, monkeypatch):
    BeamDagRunner().run(wide(pipeline_root, width=2, delay=0.0)).raise_for_failure()

    def no_beam(*args, **kwargs):
        raise AssertionError("Beam started for a fully cached run")

    monkeypatch.setattr(BeamDagRunner, "_run_on_beam", no_beam)
    result = BeamDagRunner().run(wide(pipeline_root, width=2, delay=0.0))
    assert {r.status for r in result.nodes.values()} == {"cached"}


def test_a_partial_rerun_schedules_only_the_missed_nodes_after_their_cached_inputs(pipeline_root):
    from test_runners import diamond

    BeamDagRunner().run(diamond(pipeline_root)).raise_for_failure()
    result = BeamDagRunner().run(diamond(pipeline_root, factor_b=10.0))
    assert {n: r.status for n, r in result.nodes.items()} == {"generate": "cached", "a": "cached", "b": "ran", "combine": "ran"}
    assert read_numbers(result.output("combine", "total")) == [0.0, 12.0, 24.0, 36.0]


def test_two_runs_at_once_in_one_process_keep_their_nodes_apart(tmp_path):
    roots = [str(tmp_path / "one"), str(tmp_path / "two")]
    results: dict[str, object] = {}

    def run(root: str, factor: float) -> None:
        g = generate(count=3)
        pipeline = Pipeline("twice", root, [scale(numbers=g.outputs["numbers"], factor=factor, delay=0.3)])
        results[root] = BeamDagRunner().run(pipeline)

    threads = [threading.Thread(target=run, args=(root, factor)) for root, factor in zip(roots, (2.0, 5.0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert read_numbers(results[roots[0]].output("scale", "scaled")) == [0.0, 2.0, 4.0]  # type: ignore[attr-defined]
    assert read_numbers(results[roots[1]].output("scale", "scaled")) == [0.0, 5.0, 10.0]  # type: ignore[attr-defined]


SIGINT_SCRIPT = """
import os, sys, time
sys.path.insert(0, {toy!r})
from toy_components import Numbers, generate, read_numbers, write_numbers
from pipelinekit import BeamDagRunner, InputArtifact, OutputArtifact, Pipeline, component

@component
def sleepy(numbers: InputArtifact[Numbers], out: OutputArtifact[Numbers]) -> None:
    open({marker!r}, "w").close()
    time.sleep(60)

g = generate()
BeamDagRunner().run(Pipeline("sigint", {root!r}, [sleepy(numbers=g.outputs["numbers"]), generate().with_id("other")]))
"""


def test_a_real_sigint_during_a_beam_run_ends_it_quickly_with_a_short_traceback(tmp_path, pipeline_root):
    import os
    import signal
    import subprocess
    import sys

    marker = str(tmp_path / "started")
    toy = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "examples", "toy")
    script = tmp_path / "run.py"
    script.write_text(SIGINT_SCRIPT.format(toy=toy, marker=marker, root=pipeline_root))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen([sys.executable, str(script)], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not os.path.exists(marker):
        assert process.poll() is None and time.time() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)  # the sleeping node must not hold the process for 60 s
    assert process.returncode == -signal.SIGINT, stderr
    assert "apache_beam" not in stderr and len(stderr.strip().splitlines()) < 10, stderr
    assert stderr.strip().endswith("KeyboardInterrupt"), stderr
    assert run_statuses(pipeline_root) == ["INTERRUPTED"]


@st.composite
def dags(draw) -> dict[str, tuple[str, ...]]:
    """Random DAGs of up to 8 nodes: node i may read from any node before it."""
    count = draw(st.integers(1, 8))
    return {f"n{j}": tuple(f"n{i}" for i in range(j) if draw(st.booleans())) for j in range(count)}


def largest_antichain(upstream: dict[str, tuple[str, ...]]) -> int:
    """By brute force: the most nodes none of which depends, directly or not, on another."""
    from itertools import combinations

    ancestors: dict[str, set[str]] = {}
    for node, ups in upstream.items():  # keys are in dependency order
        ancestors[node] = set(ups).union(*(ancestors[u] for u in ups))
    nodes = list(upstream)
    for size in range(len(nodes), 0, -1):
        for group in combinations(nodes, size):
            if all(a not in ancestors[b] and b not in ancestors[a] for a, b in combinations(group, 2)):
                return size
    return 0


@settings(max_examples=60, deadline=None)
@given(dags(), st.integers(1, 4))
def test_the_ready_queue_hands_out_every_node_once_after_its_upstream(upstream, workers):
    queue = ReadyQueue(upstream, list(upstream))
    assert queue.max_concurrency >= largest_antichain(upstream)
    done: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        while (node := queue.take()) is not None:
            with lock:
                problems.extend(f"{node} before {u}" for u in upstream[node] if u not in done)
            time.sleep(0.001)
            with lock:
                done.append(node)
            queue.done(node)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck waiting"
    assert problems == [] and sorted(done) == sorted(upstream)


def test_the_concurrency_bound_is_exact_for_chains_fan_outs_and_a_staircase():
    assert ReadyQueue({"a": (), "b": ("a",), "c": ("b",)}, ["a", "b", "c"]).max_concurrency == 1
    fan = {"s": (), **{f"f{i}": ("s",) for i in range(5)}}
    assert ReadyQueue(fan, list(fan)).max_concurrency == 5
    stairs = {"a1": (), "a2": ("a1",), "b2": ("a1",), "a3": ("a2",), "c3": ("a2",), "a4": ("a3",)}
    assert ReadyQueue(stairs, list(stairs)).max_concurrency == largest_antichain(stairs) == 3  # wider than any layer
    cached = ReadyQueue({"a": (), "b": ("a",), "c": ("a",)}, ["b", "c"])  # a settled from the cache
    assert cached.max_concurrency == 2 and {cached.take(), cached.take()} == {"b", "c"}


def test_a_closed_queue_releases_waiting_workers():
    queue = ReadyQueue({"a": (), "b": ("a",)}, ["a", "b"])
    assert queue.take() == "a"
    answers: list[str | None] = []
    waiter = threading.Thread(target=lambda: answers.append(queue.take()))  # b waits for a
    waiter.start()
    time.sleep(0.05)
    queue.close(RuntimeError("runner failed"))
    waiter.join(timeout=5)
    assert answers == [None] and str(queue.error) == "runner failed"
