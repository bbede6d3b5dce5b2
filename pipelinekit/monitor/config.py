"""The monitor's policy file (YAML): what to read, what to compare with, and what to do.

Every field is checked when the file is loaded; a mistake names the file and the field.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from pipelinekit.monitor.errors import MonitorConfigError
from pipelinekit.monitor.validation import Comparators

__all__ = ["ACTIONS", "Baseline", "Rule", "LabelsConfig", "FeedbackConfig", "AdminConfig", "MonitorConfig", "load_config"]

ACTIONS = ("alert", "disable", "fallback", "rollback")


@dataclasses.dataclass(frozen=True)
class Baseline:
    """A version's training statistics and schema (and, optionally, statistics of its predictions on
    eval data); ``origin`` says where it came from: the policy file (``config``) or ML Metadata
    lineage (``lineage``, see :mod:`pipelinekit.monitor.baselines`)."""

    statistics: str
    schema: str
    predictions: str | None = None
    origin: str = "config"


@dataclasses.dataclass(frozen=True)
class Rule:
    """Act when ``metric`` is above ``above`` (or below ``below``) for ``windows`` windows in a row with at
    least ``min_requests`` requests each; clear after ``windows`` windows back inside (hysteresis)."""

    name: str
    metric: str
    action: str
    above: float | None = None
    below: float | None = None
    min_requests: int = 100
    windows: int = 1
    target: str | None = None  # disable: the route target (default: the version that breached)

    def breached(self, value: float) -> bool:
        return (self.above is not None and value > self.above) or (self.below is not None and value < self.below)


@dataclasses.dataclass(frozen=True)
class LabelsConfig:
    path: str
    id_key: str = "request_id"
    label_key: str = "label"
    window_s: float = 7 * 86400.0  # a label is joined if it comes within this long after its request


@dataclasses.dataclass(frozen=True)
class FeedbackConfig:
    base: str  # spans go to <base>/span-<N>/ (ExampleGen input pattern "span-{SPAN}/*")
    label_feature: str = "label"
    min_examples: int = 1


@dataclasses.dataclass(frozen=True)
class AdminConfig:
    port: int
    token_file: str
    route: str


@dataclasses.dataclass(frozen=True)
class MonitorConfig:
    model: str
    log_dir: str
    state_dir: str
    metadata: str
    baselines: dict[str, Baseline]
    comparators: Comparators = Comparators()
    labels: LabelsConfig | None = None
    value: str | None = None  # "module:function", value(prediction, label) -> float
    feedback: FeedbackConfig | None = None
    eval_config: str | None = None  # a text-format TFMA EvalConfig for performance per window
    admin: AdminConfig | None = None
    rules: tuple[Rule, ...] = ()
    registry_metadata: str | None = None  # the model registry's store: for action rollback and for baselines from lineage
    source: str = ""

    def baseline(self, version: str) -> Baseline | None:
        """The baseline of ``<model>/<n>`` this file gives: its own, else its model's, else ``*``."""
        return self.baselines.get(version) or self.baselines.get(version.split("/")[0]) or self.baselines.get("*")


def load_config(path: str) -> MonitorConfig:
    import yaml

    try:
        with open(path) as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise MonitorConfigError(f"monitor policy file {path} cannot be read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise MonitorConfigError(f"monitor policy file {path} is not YAML: {error}") from error
    reader = _Reader(path, os.path.dirname(os.path.abspath(path)))
    return reader.config(data)


class _Reader:
    """Reads one file; relative paths in it are relative to its folder."""

    def __init__(self, path: str, folder: str) -> None:
        self.path = path
        self.folder = folder

    def fail(self, field: str, problem: str) -> MonitorConfigError:
        return MonitorConfigError(f"monitor policy file {self.path}, field {field}: {problem}")

    def mapping(self, value: Any, field: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, f"must be a mapping, got {type(value).__name__}")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(field, f"unknown keys {unknown}; allowed: {sorted(allowed)}")
        return value

    def text(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(field, f"must be a non-empty string, got {value!r}")
        return value

    def file(self, value: Any, field: str) -> str:
        return os.path.join(self.folder, os.path.expanduser(self.text(value, field)))

    def number(self, value: Any, field: str, minimum: float = float("-inf")) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
            raise self.fail(field, f"must be a finite number, got {value!r}")
        if value < minimum:
            raise self.fail(field, f"must be at least {minimum}, got {value}")
        return float(value)

    def config(self, data: Any) -> MonitorConfig:
        top = self.mapping(data, "(top)", {"model", "log_dir", "state_dir", "metadata", "baselines", "comparators",
                                           "labels", "value", "feedback", "eval_config", "admin", "rules", "registry_metadata"})  # fmt: skip
        for key in ("model", "log_dir", "state_dir"):
            if key not in top:
                raise self.fail(key, "is required")
        state_dir = self.file(top["state_dir"], "state_dir")
        baselines = {
            self.text(str(name), "baselines"): self.baseline(entry, f"baselines.{name}")
            for name, entry in self.mapping(
                top.get("baselines", {}), "baselines", set(map(str, top.get("baselines") or {}))
            ).items()
        }
        comparators = self.mapping(top.get("comparators", {}), "comparators", {"jensen_shannon", "linf"})
        rules = tuple(self.rule(r, f"rules[{i}]") for i, r in enumerate(self.sequence(top.get("rules", []), "rules")))
        for rule in rules:
            needs = {"rollback": "registry_metadata", "disable": "admin", "fallback": "admin"}.get(rule.action)
            if needs and needs not in top:
                raise self.fail(needs, f"is required by rule {rule.name!r} (action: {rule.action})")
        return MonitorConfig(
            model=self.text(top["model"], "model"),
            log_dir=self.file(top["log_dir"], "log_dir"),
            state_dir=state_dir,
            metadata=self.file(top["metadata"], "metadata") if "metadata" in top else os.path.join(state_dir, "metadata.sqlite"),
            baselines=baselines,
            comparators=Comparators(**{k: self.number(v, f"comparators.{k}", 0) for k, v in comparators.items()}),
            labels=self.labels(top["labels"]) if "labels" in top else None,
            value=self.function(top["value"], "value") if "value" in top else None,
            feedback=self.feedback(top["feedback"]) if "feedback" in top else None,
            eval_config=self.file(top["eval_config"], "eval_config") if "eval_config" in top else None,
            admin=self.admin(top["admin"]) if "admin" in top else None,
            rules=rules,
            registry_metadata=self.file(top["registry_metadata"], "registry_metadata") if "registry_metadata" in top else None,
            source=self.path,
        )

    def sequence(self, value: Any, field: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(field, f"must be a list, got {type(value).__name__}")
        return value

    def baseline(self, entry: Any, field: str) -> Baseline:
        entry = self.mapping(entry, field, {"statistics", "schema", "predictions"})
        for key in ("statistics", "schema"):
            if key not in entry:
                raise self.fail(f"{field}.{key}", "is required (the version's training FeatureStats.pb and schema.pbtxt)")
        predictions = self.file(entry["predictions"], f"{field}.predictions") if "predictions" in entry else None
        return Baseline(
            self.file(entry["statistics"], f"{field}.statistics"), self.file(entry["schema"], f"{field}.schema"), predictions
        )

    def labels(self, entry: Any) -> LabelsConfig:
        entry = self.mapping(entry, "labels", {"path", "id_key", "label_key", "window_s"})
        return LabelsConfig(
            self.file(entry.get("path"), "labels.path"),
            self.text(entry.get("id_key", "request_id"), "labels.id_key"),
            self.text(entry.get("label_key", "label"), "labels.label_key"),
            self.number(entry.get("window_s", 7 * 86400), "labels.window_s", 0),
        )

    def function(self, value: Any, field: str) -> str:
        text = self.text(value, field)
        if text.count(":") != 1:
            raise self.fail(field, f"must be 'module:function', got {text!r}")
        return text

    def feedback(self, entry: Any) -> FeedbackConfig:
        entry = self.mapping(entry, "feedback", {"base", "label_feature", "min_examples"})
        return FeedbackConfig(
            self.file(entry.get("base"), "feedback.base"),
            self.text(entry.get("label_feature", "label"), "feedback.label_feature"),
            int(self.number(entry.get("min_examples", 1), "feedback.min_examples", 1)),
        )

    def admin(self, entry: Any) -> AdminConfig:
        entry = self.mapping(entry, "admin", {"port", "token_file", "route"})
        return AdminConfig(
            int(self.number(entry.get("port"), "admin.port", 1)),
            self.file(entry.get("token_file"), "admin.token_file"),
            self.text(entry.get("route"), "admin.route"),
        )

    def rule(self, entry: Any, field: str) -> Rule:
        entry = self.mapping(entry, field, {"name", "metric", "action", "above", "below", "min_requests", "windows", "target"})
        action = entry.get("action", "alert")
        if action not in ACTIONS:
            raise self.fail(f"{field}.action", f"must be one of {list(ACTIONS)}, got {action!r}")
        if ("above" in entry) == ("below" in entry):
            raise self.fail(field, "give exactly one of above or below")
        bound = {k: self.number(entry[k], f"{field}.{k}") for k in ("above", "below") if k in entry}
        return Rule(
            name=self.text(entry.get("name", f"rule{field[6:-1]}"), f"{field}.name"),
            metric=self.text(entry.get("metric"), f"{field}.metric"),
            action=action,
            min_requests=int(self.number(entry.get("min_requests", 100), f"{field}.min_requests", 0)),
            windows=int(self.number(entry.get("windows", 1), f"{field}.windows", 1)),
            target=self.text(entry["target"], f"{field}.target") if "target" in entry else None,
            **bound,
        )
