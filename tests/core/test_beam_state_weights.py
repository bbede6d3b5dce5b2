"""The state cache's weights with the module list kept: the same as Beam's own, also after more
modules are loaded."""

from __future__ import annotations

import sys
import types

import numpy as np
import objsize
import pyarrow as pa
import pytest
from apache_beam.runners.worker import statecache

from pipelinekit.dsl import beam_state_weights


class _Holder:
    def __init__(self, value):
        self.value = value
        self.module_level = sys  # a shared object: left out by both


VALUES = [
    {"a": list(range(1000)), "b": "x" * 5000},
    np.arange(10_000, dtype=np.float32),
    pa.record_batch([pa.array(list(range(2000)))], names=["n"]),
    _Holder([b"abc" * 100, (1.5, None)]),
    [_Holder(i) for i in range(50)],
]


def _beams_own(*objs):
    """Beam 2.61's ``statecache.get_deep_size``, as written there (the installed one replaces it
    for the whole process, so once any pipeline ran here Beam's is gone)."""
    return objsize.get_deep_size(
        *objs,
        get_size_func=statecache._size_func,
        get_referents_func=statecache._get_referents_func,
        filter_func=statecache._filter_func,
    )


@pytest.fixture(scope="module")
def weights():
    beam_state_weights.install()
    assert statecache.get_deep_size.__module__ == beam_state_weights.__name__
    return _beams_own, statecache.get_deep_size


@pytest.mark.parametrize("index", range(len(VALUES)))
def test_each_weight_equals_beams(weights, index):
    beams, ours = weights
    assert ours(VALUES[index]) == beams(VALUES[index]) > 0


def test_a_module_loaded_later_is_left_out_as_beam_leaves_it_out(weights, monkeypatch):
    beams, ours = weights
    ours(VALUES[0])  # the module list is collected now
    module = types.ModuleType("pipelinekit_test_late_module")
    module.TABLE = list(range(10_000))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    value = {"globals": vars(module), "own": [1, 2, 3]}
    assert ours(value) == beams(value) < beams([1, 2, 3]) + 10_000
