"""The policy file's checks and the rules' hysteresis (no TensorFlow: fast)."""

from __future__ import annotations

import pytest

from pipelinekit.monitor.config import Rule, load_config
from pipelinekit.monitor.errors import MonitorConfigError
from pipelinekit.monitor.policy import judge

_BASE = "model: m\nlog_dir: logs\nstate_dir: state\nbaselines: {'*': {statistics: s.pb, schema: s.pbtxt}}\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("colour: red\n", r"field \(top\): unknown keys \['colour'\]"),
        ("rules: [{metric: drift_features, above: 0, action: explode}]\n", r"rules\[0\]\.action: must be one of"),
        ("rules: [{metric: drift_features, above: 0, below: 1}]\n", "give exactly one of above or below"),
        ("rules: [{metric: drift_features, above: .nan}]\n", r"rules\[0\]\.above: must be a finite number"),
        ("rules: [{metric: value, below: 0, action: rollback}]\n", "field registry_metadata: is required by rule"),
        ("rules: [{metric: value, below: 0, action: fallback}]\n", "field admin: is required by rule"),
        ("labels: {path: l, window_s: -1}\n", r"labels\.window_s: must be at least 0"),
        ("value: not_a_function\n", "must be 'module:function'"),
    ],
)
def test_a_bad_policy_file_names_the_file_and_field(tmp_path, extra, message):
    path = tmp_path / "policy.yaml"
    path.write_text(_BASE + extra)
    with pytest.raises(MonitorConfigError, match=message) as info:
        load_config(str(path))
    assert str(path) in str(info.value)


def test_missing_fields_and_relative_paths(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("model: m\nlog_dir: logs\n")
    with pytest.raises(MonitorConfigError, match="field state_dir: is required"):
        load_config(str(path))
    path.write_text(_BASE)
    config = load_config(str(path))
    assert config.log_dir == str(tmp_path / "logs") and config.metadata == str(tmp_path / "state" / "metadata.sqlite")
    assert config.baseline("m/3") == config.baselines["*"]


def test_hysteresis_trips_after_n_windows_acts_once_and_clears_after_n():
    rule = Rule("r", "drift_features", "alert", above=0, min_requests=10, windows=2)
    state: dict = {}
    acted = []
    for value, requests in [
        (1, 50),
        (0, 50),
        (1, 50),
        (1, 5),
        (1, 50),
        (1, 50),
        (0, 50),
        (1, 50),
        (0, 50),
        (0, 50),
        (1, 50),
        (1, 50),
    ]:
        decision = judge(rule, "m/1", {"drift_features": value, "requests": requests}, state)
        state = decision.state
        acted.append(decision.act)
    # trips at the 2nd breaching window in a row (a window under min_requests neither counts nor breaks the streak),
    # stays tripped through one good window, clears after two, trips again after two more bad ones
    assert acted == [False, False, False, False, True, False, False, False, False, False, False, True]


def test_an_overridden_rule_does_not_act_until_it_clears():
    rule = Rule("r", "value", "disable", below=0, min_requests=1)
    state = {"tripped": True, "streak": 0, "overridden": True, "acted": ["m/1"]}
    assert not judge(rule, "m/1", {"value": -5, "value_answers": 10}, state).act
    cleared = judge(rule, "m/1", {"value": 5, "value_answers": 10}, state).state
    assert "overridden" not in cleared and not cleared["tripped"]
    assert judge(rule, "m/1", {"value": -5, "value_answers": 10}, cleared).act
