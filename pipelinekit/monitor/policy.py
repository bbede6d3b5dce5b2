"""Rules with hysteresis: when one trips, and whether the monitor may act.

A rule counts only windows with at least ``min_requests`` (requests, labeled requests for label
metrics, answers for the cumulative ``value``). It trips after ``windows`` breaching windows in a
row and clears after ``windows`` windows in a row inside the bound; in between it keeps its
state, so a metric hovering at the threshold does not flap. It acts once when it trips. If a
person switches back on what the monitor switched off, the rule is marked overridden and does
not act again until it has cleared.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pipelinekit.monitor.config import Rule

__all__ = ["Decision", "judge", "count_metric"]


def count_metric(metric: str) -> str:
    """Which count a metric's ``min_requests`` applies to."""
    if metric in ("value", "value_mean"):
        return "value_answers"
    if metric in (
        "requests",
        "drift_features",
        "drift_ratio",
        "skew_features",
        "skew_ratio",
        "schema_anomalies",
        "prediction_drift",
    ):
        return "requests"
    return "labeled"  # performance metrics from TFMA, value_window


@dataclasses.dataclass
class Decision:
    rule: Rule
    subject: str  # the version
    value: float | None
    state: dict[str, Any]  # the rule's new state, stored with the window
    act: bool  # trips now: take the rule's action


def judge(rule: Rule, subject: str, metrics: dict[str, float], state: dict[str, Any]) -> Decision:
    """The rule's verdict on one window of ``subject`` given its previous ``state``."""
    state = {"tripped": False, "streak": 0, **state}
    value = metrics.get(rule.metric)
    if value is None or metrics.get(count_metric(rule.metric), 0) < rule.min_requests:
        return Decision(rule, subject, value, state, act=False)  # not enough to judge: no change
    breached = rule.breached(value)
    state["streak"] = state["streak"] + 1 if breached != state["tripped"] else 0
    act = False
    if state["streak"] >= rule.windows:
        state["tripped"], state["streak"] = breached, 0
        if breached:
            act = not state.get("overridden", False)
        else:
            state.pop("overridden", None)
            state.pop("acted", None)
    return Decision(rule, subject, value, state, act)
