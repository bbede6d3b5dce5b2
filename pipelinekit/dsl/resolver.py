"""``Resolver``: a node that picks artifacts from ML Metadata at run time instead of making them.

``Resolver(strategy_class=LatestBlessedModelStrategy, model=Channel(type=Model),
model_blessing=Channel(type=ModelBlessing)).with_id('latest_blessed_model_resolver')`` has one
output per channel argument, of the same type. Each run it reads what every channel holds
(see ``Channel``), lets the strategy choose, and passes the choice downstream; it is never
served from the cache, and it is recorded as a COMPLETE execution with INPUT events for what
it chose. Choosing nothing is not a failure: a consumer's optional input then gets ``None``,
and a consumer whose required input got nothing is skipped with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipelinekit.dsl.component import ComponentDefinition
from pipelinekit.dsl.node import Channel, Node
from pipelinekit.dsl.spec import ComponentSpec, InputSpec, OutputSpec
from pipelinekit.errors import DefinitionError, RunError
from pipelinekit.types.artifact import Artifact
from pipelinekit.types.standard import Model, ModelBlessing

__all__ = [
    "Resolver",
    "ResolverStrategy",
    "LatestArtifactStrategy",
    "LatestBlessedModelStrategy",
    "SpanRangeStrategy",
    "InvalidStrategyError",
    "ResolverArgumentError",
    "ResolutionError",
]

ArtifactsByKey = dict[str, list[Artifact]]


class InvalidStrategyError(DefinitionError, TypeError):
    """``strategy_class`` is not a ResolverStrategy subclass (a TypeError, as in TFX)."""


class ResolverArgumentError(DefinitionError, ValueError):
    """A Resolver or strategy argument is wrong (a ValueError, as in TFX)."""


class ResolutionError(RunError, RuntimeError):
    """A strategy cannot resolve what the channels hold (a RuntimeError, as in TFX)."""


class ResolverStrategy:
    """Chooses artifacts for a Resolver. Subclass it and override ``resolve_artifacts``.

    ``input_dict`` maps each channel argument to the artifacts it holds this run, newest
    first; return the chosen ones per key (``None`` or a missing key means none). The base
    class passes everything through.
    """

    def channel_problems(self, channel_types: Mapping[str, type[Artifact]]) -> list[str]:
        """What is wrong with the channels' types for this strategy; checked when compiling."""
        return []

    def resolve_artifacts(self, store: Any, input_dict: ArtifactsByKey) -> ArtifactsByKey | None:
        """The artifacts to pass on; ``store`` is the run's MetadataStore (``.raw`` is MLMD's)."""
        return {key: list(artifacts) for key, artifacts in input_dict.items()}

    def __repr__(self) -> str:
        return type(self).__name__


class LatestArtifactStrategy(ResolverStrategy):
    """The ``desired_num_of_artifacts`` newest artifacts (by MLMD id) of every channel; nothing
    at all until every channel holds that many."""

    def __init__(self, desired_num_of_artifacts: int = 1) -> None:
        if not isinstance(desired_num_of_artifacts, int) or isinstance(desired_num_of_artifacts, bool) or desired_num_of_artifacts < 1:
            raise ResolverArgumentError(f"LatestArtifactStrategy: desired_num_of_artifacts must be an int >= 1, got {desired_num_of_artifacts!r}")
        self.desired_num_of_artifacts = desired_num_of_artifacts

    def resolve_artifacts(self, store: Any, input_dict: ArtifactsByKey) -> ArtifactsByKey | None:
        wanted = self.desired_num_of_artifacts
        if any(len(artifacts) < wanted for artifacts in input_dict.values()):
            return None
        return {key: _newest_first(artifacts)[:wanted] for key, artifacts in input_dict.items()}

    def __repr__(self) -> str:
        return f"LatestArtifactStrategy(desired_num_of_artifacts={self.desired_num_of_artifacts})"


class LatestBlessedModelStrategy(ResolverStrategy):
    """The newest model (by MLMD id) with a blessing whose custom property ``blessed`` is 1,
    matched through the blessing's ``current_model_id``; takes one Model and one ModelBlessing
    channel and gives both, or nothing when no model is blessed yet."""

    def channel_problems(self, channel_types: Mapping[str, type[Artifact]]) -> list[str]:
        models = [k for k, t in channel_types.items() if issubclass(t, Model)]
        blessings = [k for k, t in channel_types.items() if issubclass(t, ModelBlessing)]
        if len(channel_types) == 2 and len(models) == 1 and len(blessings) == 1:
            return []
        given = ", ".join(f"{k}: {t.TYPE_NAME}" for k, t in channel_types.items()) or "none"
        return [f"LatestBlessedModelStrategy takes exactly one Model and one ModelBlessing channel, got {given}"]

    def resolve_artifacts(self, store: Any, input_dict: ArtifactsByKey) -> ArtifactsByKey | None:
        strangers = [a for group in input_dict.values() for a in group if not isinstance(a, (Model, ModelBlessing))]
        if strangers:
            raise ResolutionError(f"LatestBlessedModelStrategy takes only Model and ModelBlessing artifacts, got {strangers[0]!r}")
        model_key = next((k for k, v in input_dict.items() if v and isinstance(v[0], Model)), None)
        blessing_key = next((k for k, v in input_dict.items() if v and isinstance(v[0], ModelBlessing)), None)
        empty: ArtifactsByKey = {key: [] for key in input_dict}
        if model_key is None or blessing_key is None:
            return empty
        blessing_of: dict[int, Artifact] = {}
        for blessing in reversed(_newest_first(input_dict[blessing_key])):  # newest blessing of a model wins
            if blessing.custom_properties.get("blessed") == 1 and blessing.custom_properties.get("current_model_id") is not None:
                blessing_of[int(blessing.custom_properties["current_model_id"])] = blessing
        for model in _newest_first(input_dict[model_key]):
            if model.id in blessing_of:
                return {**empty, model_key: [model], blessing_key: [blessing_of[model.id]]}
        return empty


class SpanRangeStrategy(ResolverStrategy):
    """The artifacts whose span (custom property ``span``, or the ``span`` property) lies in
    ``range_config``: a static range [start, end], or a rolling range of the ``num_spans`` most
    recent spans, not below ``start_span_number``. Gives the newest artifact of each span,
    highest span first. ``range_config`` is a RangeConfig proto, its JSON, or a dict of it."""

    def __init__(self, range_config: Any) -> None:
        self.kind, self.start, self.bound = _parse_range_config(range_config)

    def resolve_artifacts(self, store: Any, input_dict: ArtifactsByKey) -> ArtifactsByKey | None:
        return {key: self._in_range(artifacts) for key, artifacts in input_dict.items()}

    def _in_range(self, artifacts: list[Artifact]) -> list[Artifact]:
        spans = {artifact.id: span_of(artifact) for artifact in artifacts}
        if not spans:
            return []
        if self.kind == "static_range":
            low, high = self.start, self.bound
        else:
            high = max(spans.values())
            low = max(high - self.bound + 1, self.start)
        newest: dict[int, Artifact] = {}
        for artifact in reversed(_newest_first(artifacts)):
            if low <= spans[artifact.id] <= high:
                newest[spans[artifact.id]] = artifact
        return [newest[span] for span in sorted(newest, reverse=True)]

    def __repr__(self) -> str:
        return f"SpanRangeStrategy({self.kind}: {self.start}, {self.bound})"


def span_of(artifact: Artifact) -> int:
    """An artifact's span: its custom property ``span`` (int or digits, as TFX writes it), else
    its ``span`` property; a ResolutionError when it has neither."""
    for value in (artifact.custom_properties.get("span"), artifact.properties.get("span")):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    raise ResolutionError(
        f"{artifact!r} has no span (custom property or property 'span'); SpanRangeStrategy needs artifacts "
        "from an ExampleGen that records spans"
    )


def _newest_first(artifacts: list[Artifact]) -> list[Artifact]:
    return sorted(artifacts, key=lambda a: a.id or 0, reverse=True)


_RANGE_FIELDS = {"static_range": ("start_span_number", "end_span_number"), "rolling_range": ("start_span_number", "num_spans")}


def _parse_range_config(config: Any) -> tuple[str, int, int]:
    """``(kind, start_span_number, end_span_number or num_spans)`` from a proto, JSON or dict."""
    if hasattr(config, "WhichOneof"):
        kind = config.WhichOneof("range")
        fields = {f: getattr(getattr(config, kind), f) for f in _RANGE_FIELDS.get(kind, ())} if kind else {}
    else:
        data = _as_dict(config)
        kind = next((k for k in _RANGE_FIELDS if _snake_keys(data).get(k) is not None), None)
        fields = _snake_keys(data[_key_in(data, kind)]) if kind else {}
    if kind not in _RANGE_FIELDS:
        raise ResolverArgumentError(f"SpanRangeStrategy: range_config sets neither static_range nor rolling_range: {config!r}")
    first, second = _RANGE_FIELDS[kind]
    start, bound = (_int_field(kind, name, fields.get(name, 0)) for name in (first, second))
    if kind == "rolling_range" and bound <= 0:
        raise ResolverArgumentError(f"SpanRangeStrategy: rolling_range.num_spans must be positive, got {bound}")
    if kind == "static_range" and bound < start:
        raise ResolverArgumentError(f"SpanRangeStrategy: static_range end_span_number {bound} is below start_span_number {start}")
    return kind, start, bound


def _as_dict(config: Any) -> dict[str, Any]:
    try:
        data = json.loads(config) if isinstance(config, (str, bytes)) else config
    except ValueError as error:
        raise ResolverArgumentError(f"SpanRangeStrategy: range_config is not RangeConfig JSON: {error}") from error
    if not isinstance(data, Mapping):
        raise ResolverArgumentError(
            f"SpanRangeStrategy: range_config must be a RangeConfig proto, its JSON or a dict, got {type(config).__name__}"
        )
    return dict(data)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _snake_keys(data: Any) -> dict[str, Any]:
    return {_snake(k): v for k, v in data.items()} if isinstance(data, Mapping) else {}


def _key_in(data: dict[str, Any], snake_name: str) -> str:
    return next(k for k in data if _snake(k) == snake_name)


def _int_field(kind: str, name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ResolverArgumentError(f"SpanRangeStrategy: {kind}.{name} must be an integer, got {value!r}") from None


class Resolver(Node):
    """A node whose outputs are artifacts chosen by ``strategy_class(**config)`` from what its
    channel arguments hold; one output per channel argument, same key and type."""

    def __init__(self, strategy_class: type[ResolverStrategy] | None = None, config: dict[str, Any] | None = None, **channels: Any) -> None:
        if strategy_class is not None and not (isinstance(strategy_class, type) and issubclass(strategy_class, ResolverStrategy)):
            raise InvalidStrategyError(
                f"Resolver: strategy_class must be a ResolverStrategy subclass such as LatestBlessedModelStrategy, got {strategy_class!r}"
            )
        if config is not None and strategy_class is None:
            raise ResolverArgumentError("Resolver: config is given without a strategy_class; config holds the strategy's arguments")
        wrong = {k: v for k, v in channels.items() if not isinstance(v, Channel)}
        if wrong:
            raise ResolverArgumentError(
                "Resolver: keyword arguments other than strategy_class and config must be channels, e.g. "
                f"model=Channel(type=Model) or trainer.outputs['model']; got {', '.join(f'{k}={v!r}' for k, v in wrong.items())}"
            )
        if not channels:
            raise ResolverArgumentError("Resolver: give at least one channel, e.g. Resolver(..., model=Channel(type=Model))")
        self.strategy = _make_strategy(strategy_class or ResolverStrategy, config or {})
        spec = ComponentSpec(
            inputs={key: InputSpec(channel.type, optional=True) for key, channel in channels.items()},
            outputs={key: OutputSpec(channel.type) for key, channel in channels.items()},
        )
        super().__init__(ComponentDefinition("Resolver", spec, self.strategy.resolve_artifacts), channels)

    def problems(self) -> list[str]:
        """Wiring problems the strategy sees in the channel types (reported by the compiler)."""
        types = {key: channel.type for key, channel in self.inputs.items()}
        return [f"node {self.id!r}: {problem}" for problem in self.strategy.channel_problems(types)]


def _make_strategy(strategy_class: type[ResolverStrategy], config: dict[str, Any]) -> ResolverStrategy:
    try:
        return strategy_class(**config)
    except DefinitionError:
        raise
    except TypeError as error:
        raise ResolverArgumentError(f"Resolver: config {config!r} does not fit {strategy_class.__name__}: {error}") from error
