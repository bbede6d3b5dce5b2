"""Routes: model names that clients call, mapped to served models by a split, shadows and fallbacks.

A route file is YAML beside TF Serving's model config (``--route_config_file``)::

    routes:
      - name: penguins                 # what clients put in model_spec.name
        split:                         # weighted; a request key makes the pick sticky
          - {model: penguins, version: 1, weight: 90}
          - {model: penguins, version: 2, weight: 10}
        shadows: [{model: candidate}]  # get a copy; answers compared and logged, never returned
        fallback:                      # raced against the split's pick; first preferred answer in time wins
          deadline_ms: 50
          targets: [{model: simple}]
        protection: {window_s: 30, min_requests: 20, max_error_rate: 0.5, max_p99_ms: 250}
        review: {below: 0.6, by: top_probability, queue_dir: /srv/review}   # low confidence to people

Errors name the file, the line and the field, and say what to write instead.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from pipelinekit.serving.errors import ModelConfigError

__all__ = [
    "MAX_DEADLINE_MS",
    "MAX_WEIGHT",
    "Protection",
    "Review",
    "Route",
    "RouteConfigError",
    "Target",
    "parse_routes",
    "read_route_file",
]


MAX_DEADLINE_MS = 600_000.0  # 10 minutes: beyond it a fallback deadline is a mistake (and overflows waits)
MAX_WEIGHT = 1_000_000.0  # weights are relative; a bound keeps their sum finite


class RouteConfigError(ModelConfigError):
    """A route file, or a route change, that cannot be applied; the routes in force stay."""


@dataclass(frozen=True)
class Target:
    """A served model, at a version (number or label) or its latest; ``weight`` counts in a split."""

    model: str
    version: int | None = None
    label: str | None = None
    weight: float = 1.0
    line: int | None = field(default=None, compare=False)  # where the route file defines it, for errors

    @property
    def key(self) -> str:
        """``model``, ``model/3`` or ``model@canary``: how metrics, logs and the admin API name it."""
        if self.version is not None:
            return f"{self.model}/{self.version}"
        return f"{self.model}@{self.label}" if self.label else self.model


@dataclass(frozen=True)
class Protection:
    """Take a target out of its route when, over the last ``window_s``, its error rate or p99 is too high."""

    window_s: float = 30.0
    min_requests: int = 20
    max_error_rate: float | None = None
    max_p99_ms: float | None = None


@dataclass(frozen=True)
class Review:
    """Send answers whose confidence is below ``below`` to a review queue in ``queue_dir`` (the
    caller still gets the answer); ``by``: ``top_probability``, ``margin`` or ``module:function``."""

    below: float
    queue_dir: str
    by: str = "top_probability"


@dataclass(frozen=True)
class Route:
    """One route: the split, the shadows, the ordered fallbacks and their deadline, and protection."""

    name: str
    split: tuple[Target, ...]
    shadows: tuple[Target, ...] = ()
    fallbacks: tuple[Target, ...] = ()
    deadline_ms: float | None = None
    protection: Protection | None = None
    review: Review | None = None
    disabled: frozenset[str] = field(default_factory=frozenset)  # target keys switched off at run time
    line: int | None = field(default=None, compare=False)  # the line of its name in the route file

    def places(self) -> tuple[tuple[str, Target], ...]:
        """Every target with the field that lists it: ``split``, ``shadows`` or ``fallback targets``."""
        lists = (("split", self.split), ("shadows", self.shadows), ("fallback targets", self.fallbacks))
        return tuple((field_name, target) for field_name, targets in lists for target in targets)

    def with_weights(self, weights: dict[str, float]) -> Route:
        """The route with new split weights, by target key; every key must be in the split."""
        unknown = sorted(set(weights) - {t.key for t in self.split})
        if unknown:
            raise RouteConfigError(
                f"route {self.name!r} has no split target {unknown}; its split targets are {[t.key for t in self.split]}"
            )
        for key, weight in weights.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not _weight(weight):
                raise RouteConfigError(
                    f"route {self.name!r}: target {key!r}: weight is {weight!r}; expected {_EXPECTED[_weight]}"
                )
        split = tuple(dataclasses.replace(t, weight=weights.get(t.key, t.weight)) for t in self.split)
        if not any(t.weight > 0 for t in split):
            raise RouteConfigError(f"route {self.name!r}: at least one split weight must be above 0")
        return dataclasses.replace(self, split=split)


def read_route_file(path: str) -> dict[str, Route]:
    """Parse and check a route file; every problem named with its line."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise RouteConfigError(
            f"cannot read the route file {path!r}: {exc.strerror}. Pass an existing file to --route_config_file."
        ) from exc
    return parse_routes(text, path)


def parse_routes(text: str, source: str = "the route config") -> dict[str, Route]:
    """Routes by name from the YAML text of a route file."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise RouteConfigError(f"{source}: {_yaml_problem(exc)}") from exc
    if root is None:
        return {}
    reader = _Reader(source)
    top = reader.mapping(root, "the file", {"routes"})
    routes: dict[str, Route] = {}
    if "routes" not in top:
        return routes
    for node in reader.sequence(top["routes"], "routes"):
        route = reader.route(node)
        if route.name in routes:
            reader.problem(node, f"name: route {route.name!r} is defined twice; give each route its own name")
        routes[route.name] = route
    if reader.problems:
        raise RouteConfigError(f"{source} has {len(reader.problems)} problem(s): " + "; ".join(reader.problems))
    return routes


class _Reader:
    """Walks the YAML node tree, so every problem can name its line; collects the problems."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, node: yaml.Node, text: str) -> None:
        self.problems.append(f"line {_line_of(node)}: {text}")

    def mapping(self, node: yaml.Node, where: str, allowed: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{where} must be a mapping (key: value)")
            return {}
        fields = {}
        for key, value in node.value:
            name = str(key.value)
            if name not in allowed:
                self.problem(key, f"unknown field {name!r} in {where}; allowed: {sorted(allowed)}")
            fields[name] = value
        return fields

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{where} must be a list (- item)")
            return []
        return list(node.value)

    def scalar(self, node: yaml.Node, where: str, kind: Callable[[Any], Any], check: Callable[[Any], bool]) -> Any:
        value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None
        ok = isinstance(node, yaml.ScalarNode) and not isinstance(value, bool) and value is not None
        try:
            converted = kind(value) if ok else None
        except (TypeError, ValueError, OverflowError):
            converted = None
        if converted is None or (kind is str and not isinstance(value, str)) or not check(converted):
            self.problem(node, f"{where} is {node.value!r}; expected {_EXPECTED[check]}")
            return None
        return converted

    def route(self, node: yaml.Node) -> Route:
        fields = self.mapping(node, "a route", {"name", "split", "shadows", "fallback", "protection", "review"})
        name = self.scalar(fields["name"], "name", str, _nonempty) if "name" in fields else None
        if name is None:
            self.problem(node, "a route needs a name: the model name clients call")
            name = "?"
        where = f"route {name!r}"
        split: tuple[Target, ...] = ()
        if "split" not in fields:
            self.problem(node, f"{where} needs a split: a list of {{model: ..., weight: ...}}")
        else:
            split = tuple(self.target(n, f"{where} split", True) for n in self.sequence(fields["split"], "split"))
        if "split" in fields and not split:
            self.problem(fields["split"], f"{where}: split lists no target; add at least one")
        elif split and not any(t.weight > 0 for t in split):
            self.problem(fields["split"], f"{where}: at least one split weight must be above 0")
        keys = [t.key for t in split]
        if len(set(keys)) != len(keys):
            self.problem(fields["split"], f"{where}: a split names the same target twice ({keys})")
        shadows = (
            tuple(self.target(n, f"{where} shadows", False) for n in self.sequence(fields["shadows"], "shadows"))
            if "shadows" in fields
            else ()
        )
        fallbacks, deadline = self.fallback(fields["fallback"], where) if "fallback" in fields else ((), None)
        protection = self.protection(fields["protection"], where) if "protection" in fields else None
        review = self.review(fields["review"], where) if "review" in fields else None
        return Route(name, split, shadows, fallbacks, deadline, protection, review, line=_line_of(fields.get("name", node)))

    def target(self, node: yaml.Node, where: str, weighted: bool) -> Target:
        allowed = {"model", "version", "label"} | ({"weight"} if weighted else set())
        fields = self.mapping(node, f"a target of {where}", allowed)
        model = self.scalar(fields["model"], f"{where}: model", str, _nonempty) if "model" in fields else None
        if "model" not in fields:
            self.problem(node, f"a target of {where} needs model: the name of a served model")
        version = self.scalar(fields["version"], f"{where}: version", int, _positive) if "version" in fields else None
        label = self.scalar(fields["label"], f"{where}: label", str, _nonempty) if "label" in fields else None
        if version is not None and label is not None:
            self.problem(node, f"a target of {where} has both version and label; keep one")
        weight = self.scalar(fields["weight"], f"{where}: weight", float, _weight) if "weight" in fields else 1.0
        return Target(model or "?", version, label, 1.0 if weight is None else weight, _line_of(fields.get("model", node)))

    def fallback(self, node: yaml.Node, where: str) -> tuple[tuple[Target, ...], float | None]:
        fields = self.mapping(node, f"{where} fallback", {"deadline_ms", "targets"})
        if "deadline_ms" not in fields or "targets" not in fields:
            self.problem(node, f"{where} fallback needs deadline_ms and targets (an ordered list)")
            return (), None
        deadline = self.scalar(fields["deadline_ms"], f"{where} fallback deadline_ms", float, _deadline)
        targets = tuple(self.target(n, f"{where} fallback", False) for n in self.sequence(fields["targets"], "fallback targets"))
        if not targets:
            self.problem(fields["targets"], f"{where}: fallback targets lists no target; add one or drop fallback")
        return targets, deadline

    def protection(self, node: yaml.Node, where: str) -> Protection | None:
        allowed = {"window_s", "min_requests", "max_error_rate", "max_p99_ms"}
        fields = self.mapping(node, f"{where} protection", allowed)
        values: dict[str, Any] = {}
        checks = {"window_s": (float, _positive), "min_requests": (int, _positive), "max_p99_ms": (float, _positive)}
        checks["max_error_rate"] = (float, _rate)
        for name, value_node in fields.items():
            if name in checks:
                values[name] = self.scalar(value_node, f"{where} protection {name}", *checks[name])
        if not {"max_error_rate", "max_p99_ms"} & set(fields):
            self.problem(node, f"{where} protection needs max_error_rate or max_p99_ms (or both)")
        return Protection(**{k: v for k, v in values.items() if v is not None})

    def review(self, node: yaml.Node, where: str) -> Review | None:
        fields = self.mapping(node, f"{where} review", {"below", "by", "queue_dir"})
        if "below" not in fields or "queue_dir" not in fields:
            self.problem(node, f"{where} review needs below (a confidence) and queue_dir (a folder)")
            return None
        below = self.scalar(fields["below"], f"{where} review below", float, _finite)
        queue_dir = self.scalar(fields["queue_dir"], f"{where} review queue_dir", str, _nonempty)
        by = self.scalar(fields["by"], f"{where} review by", str, _confidence) if "by" in fields else "top_probability"
        return Review(below, queue_dir, by) if None not in (below, queue_dir, by) else None


def _finite(value: float) -> bool:
    return math.isfinite(value)


def _confidence(value: str) -> bool:
    return value in ("top_probability", "margin") or value.count(":") == 1


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """``line L, column C: not valid YAML: <problem> (<context> at line L')``, from the error's marks."""
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return f"not valid YAML: {exc}"
    mark, context = exc.problem_mark, ""
    if exc.context and exc.context_mark is not None:
        context = f" ({exc.context} at line {exc.context_mark.line + 1})"
    return f"line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {exc.problem}{context}"


def _line_of(node: yaml.Node) -> int:
    """The 1-based line where ``node`` starts."""
    return node.start_mark.line + 1


def _nonempty(value: str) -> bool:
    return bool(value)


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _weight(value: float) -> bool:
    return 0 <= value <= MAX_WEIGHT  # NaN fails both comparisons


def _deadline(value: float) -> bool:
    return 0 < value <= MAX_DEADLINE_MS


def _rate(value: float) -> bool:
    return 0 <= value <= 1


_EXPECTED: dict[Callable[[Any], bool], str] = {
    _nonempty: "a non-empty string",
    _positive: "a finite number above 0",
    _weight: f"a number from 0 to {MAX_WEIGHT:.0f} (weights are relative)",
    _deadline: f"a number of milliseconds above 0 and at most {MAX_DEADLINE_MS:.0f}",
    _rate: "a fraction between 0 and 1",
    _finite: "a finite number",
    _confidence: "top_probability, margin or module:function",
}
