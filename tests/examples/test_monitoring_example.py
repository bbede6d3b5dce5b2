"""examples/monitoring/closed_loop.py end to end: the penguin model served, a drifted stream sent
to the fallback by the monitor, labels joined into a span, a retrain on that span blessed, pushed
and registered, a 10% canary, and its promotion to production."""

from __future__ import annotations

import math
import os
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.long]

HERE = os.path.dirname(os.path.abspath(__file__))
CANARY_REQUESTS = 600


def test_the_monitor_closes_the_loop_on_the_penguin_model(tmp_path, monkeypatch):
    monkeypatch.setenv("PENGUIN_TRAIN_STEPS", "120")
    sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "examples", "monitoring"))
    from closed_loop import main, penguins

    from pipelinekit.registry import Registry

    root = tmp_path / "loop"
    outcome = main(str(root), canary_requests=CANARY_REQUESTS)
    rows = len(penguins())
    first = outcome["first_version"]

    # serve, drift, fallback, labels, span
    assert outcome["clean_answered_by"] == [("penguin", first)]
    [version] = outcome["clean"]["versions"]
    assert version == f"penguin/{first}"
    assert outcome["clean"]["versions"][version]["skew_features"] == 0 and outcome["clean"]["actions"] == []
    assert {"body_mass_g", "flipper_length_mm"} <= set(outcome["drifted"]["drifted"][version])
    assert [(a["action"], a["outcome"]) for a in outcome["drifted"]["actions"]] == [("fallback", "switched off")]
    assert outcome["after_answered_by"] == [("penguin_fallback", first)]
    assert outcome["labels"]["joined"] == rows  # the 5 requests after the switch have no label: not counted
    assert outcome["labels"]["unmatched"] == 0 and outcome["labels"]["duplicates"] == 0
    assert outcome["span"].endswith("span-1")

    # retrained on the feedback span, blessed, pushed, registered
    new = outcome["new_version"]
    assert new["number"] != first
    assert [(e["node"], e["span"]) for e in new["raw_examples"]] == [("ImportExampleGen", 1)]
    assert outcome["retraining_input_rows"] == rows
    assert new["blessed"] == 1
    registry = Registry.open(str(root / "metadata.sqlite"))
    registered = registry.version("penguin", new["number"])
    assert registered.raw_examples == new["raw_examples"] and registered.files_present

    # 10% canary: every request answered, by one of the two versions, the canary's share binomial
    canary = outcome["canary"]
    assert canary["answered_by_new"] + canary["answered_by_first"] == CANARY_REQUESTS
    mean, sd = 0.1 * CANARY_REQUESTS, math.sqrt(CANARY_REQUESTS * 0.1 * 0.9)
    assert abs(canary["answered_by_new"] - mean) <= 4 * sd, canary  # 4 sd: fails about once in 16,000 runs
    assert canary["calls"][("penguin@canary", "OK")] == canary["answered_by_new"]
    assert canary["calls"][("penguin@production", "OK")] == canary["answered_by_first"]
    assert all(count == 0 for (_, status), count in canary["calls"].items() if status != "OK")

    # promoted: the registry's production names it and the server answers with it
    assert outcome["production"] == new["number"]
    history = registry.history("penguin", alias="production")
    assert [(m.from_version, m.version) for m in history] == [(None, first), (first, new["number"])]
    assert history[-1].reason.startswith("canary:")
    assert outcome["production_label_answers"] == [("penguin", new["number"])]
    assert outcome["route_after_promotion"] == [("penguin", new["number"])]
