"""Executors run with the earlier heap frozen: cheap collections, and their own garbage still freed."""

from __future__ import annotations

import gc
import os
import threading
import weakref

import pytest

from pipelinekit import OutputArtifact, Pipeline, component
from pipelinekit.orchestration.frozen_heap import frozen_heap
from pipelinekit.orchestration.local_runner import LocalDagRunner
from pipelinekit.types.standard import Examples


@pytest.fixture(autouse=True)
def _nothing_frozen_before() -> None:
    """A model server loaded earlier in this process froze its heap (serving/memory.py)."""
    gc.unfreeze()


class _Cyclic:
    def __init__(self) -> None:
        self.me = self


def test_objects_made_before_the_block_are_frozen_and_cycles_made_inside_are_collected():
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        garbage = _Cyclic()
        gone = weakref.ref(garbage)
        del garbage
        gc.collect()
        assert gone() is None
    assert gc.get_freeze_count() == 0


def test_the_heap_is_unfrozen_only_when_the_last_concurrent_holder_leaves():
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with frozen_heap():
            inside.set()
            leave.wait(10)

    other = threading.Thread(target=hold)
    other.start()
    inside.wait(10)
    with frozen_heap():
        pass
    assert gc.get_freeze_count() > 0, "the other executor is still inside"
    leave.set()
    other.join(10)
    assert gc.get_freeze_count() == 0


def test_a_failing_block_unfreezes_too():
    try:
        with frozen_heap():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.get_freeze_count() == 0


@component
def report_freeze(out: OutputArtifact[Examples]) -> None:
    with open(f"{out.uri}/frozen.txt", "w") as handle:
        handle.write(str(gc.get_freeze_count()))


def test_the_launcher_runs_executors_inside_the_block(pipeline_root):
    LocalDagRunner().run(Pipeline("frozen", pipeline_root, [report_freeze()]))
    reported = [p for p in _files(pipeline_root) if p.endswith("frozen.txt")]
    assert len(reported) == 1 and int(open(reported[0]).read()) > 0
    assert gc.get_freeze_count() == 0


def _files(root: str) -> list[str]:
    return [os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names]
