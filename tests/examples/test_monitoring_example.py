"""examples/monitoring/closed_loop.py end to end: the penguin model served, a drifted stream sent
to the fallback by the monitor, labels joined, a span ExampleGen reads."""

from __future__ import annotations

import os
import sys

import pytest

pytestmark = pytest.mark.slow

HERE = os.path.dirname(os.path.abspath(__file__))


def test_the_monitor_closes_the_loop_on_the_penguin_model(tmp_path, monkeypatch):
    monkeypatch.setenv("PENGUIN_TRAIN_STEPS", "120")
    sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "examples", "monitoring"))
    from closed_loop import main, penguins

    outcome = main(str(tmp_path / "loop"))
    rows = len(penguins())
    assert outcome["clean_answered_by"] == ["penguin"]
    [version] = outcome["clean"]["versions"]
    assert outcome["clean"]["versions"][version]["skew_features"] == 0 and outcome["clean"]["actions"] == []
    assert {"body_mass_g", "flipper_length_mm"} <= set(outcome["drifted"]["drifted"][version])
    assert [(a["action"], a["outcome"]) for a in outcome["drifted"]["actions"]] == [("fallback", "switched off")]
    assert outcome["after_answered_by"] == ["penguin_fallback"]
    assert outcome["labels"]["joined"] == rows  # the 5 requests after the switch have no label: not counted
    assert outcome["labels"]["unmatched"] == 0 and outcome["labels"]["duplicates"] == 0
    assert outcome["retraining_input_rows"] == rows
