"""Placeholders: values that exist only at run time, such as an upstream artifact's property.

``channel.future()`` stands for a channel's artifacts, ``[0]`` for one of them, and
``.value`` / ``.uri`` / ``.property(name)`` / ``.custom_property(name)`` for one value of it.
Comparisons of those make predicates for ``Cond``; ``logical_and`` / ``logical_or`` /
``logical_not`` (or ``&``, ``|``, ``~``) combine predicates. A value placeholder may also
stand where a parameter value is expected: the launcher resolves it just before the node
runs, and the resolved value is what goes into the cache key.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipelinekit.errors import DefinitionError, RunError
from pipelinekit.types.artifact import Artifact
from pipelinekit.types.standard import ValueArtifact

if TYPE_CHECKING:
    from pipelinekit.dsl.node import Channel

__all__ = [
    "Placeholder",
    "ChannelPlaceholder",
    "ArtifactPlaceholder",
    "ValuePlaceholder",
    "Predicate",
    "logical_and",
    "logical_or",
    "logical_not",
    "PlaceholderError",
    "MissingValueError",
    "Reader",
    "artifact_value",
]

Reader = Callable[["Channel"], list[Artifact]]
"""What resolves a placeholder: gives the artifacts a channel holds in the current run."""


class PlaceholderError(RunError):
    """A placeholder could not be resolved to a value at run time."""


class MissingValueError(PlaceholderError, LookupError):
    """The artifact, property or value file a placeholder points at does not exist."""


class Placeholder(ABC):
    """Base of every run-time placeholder; concrete kinds are built from ``channel.future()``.

    Comparing a placeholder with ``==``, ``<``, ... builds a :class:`Predicate`.
    """

    @abstractmethod
    def channels(self) -> list[Channel]:
        """The channels this placeholder reads; their producers must run first."""

    @abstractmethod
    def resolve(self, read: Reader) -> Any:
        """The value this placeholder stands for, given what each channel holds."""

    def _compare(self, symbol: str, other: Any) -> Predicate:
        return Comparison(symbol, self, other)

    def __eq__(self, other: Any) -> Predicate:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: Any) -> Predicate:  # type: ignore[override]
        return self._compare("!=", other)

    def __lt__(self, other: Any) -> Predicate:
        return self._compare("<", other)

    def __le__(self, other: Any) -> Predicate:
        return self._compare("<=", other)

    def __gt__(self, other: Any) -> Predicate:
        return self._compare(">", other)

    def __ge__(self, other: Any) -> Predicate:
        return self._compare(">=", other)

    __hash__ = object.__hash__


class ChannelPlaceholder(Placeholder):
    """``channel.future()``: the list of artifacts the channel holds; index it for one."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def channels(self) -> list[Channel]:
        return [self.channel]

    def resolve(self, read: Reader) -> list[Artifact]:
        return read(self.channel)

    def __getitem__(self, index: int) -> ArtifactPlaceholder:
        if not isinstance(index, int) or isinstance(index, bool):
            raise DefinitionError(f"{self!r}[{index!r}]: index a future with an int, e.g. .future()[0]")
        return ArtifactPlaceholder(self, index)

    def __repr__(self) -> str:
        return f"{self.channel.label}.future()"


class ArtifactPlaceholder(Placeholder):
    """``channel.future()[index]``: one artifact; read one of its values with the attributes below."""

    def __init__(self, source: ChannelPlaceholder, index: int) -> None:
        self.source = source
        self.index = index

    def channels(self) -> list[Channel]:
        return self.source.channels()

    def resolve(self, read: Reader) -> Artifact:
        artifacts = self.source.resolve(read)
        try:
            return artifacts[self.index]
        except IndexError:
            raise MissingValueError(f"{self!r}: the channel holds {len(artifacts)} artifact(s) in this run") from None

    @property
    def value(self) -> ValuePlaceholder:
        """The value of a value artifact (String, Integer, Float, Boolean, Bytes, JsonValue)."""
        return ValuePlaceholder(self, "value")

    @property
    def uri(self) -> ValuePlaceholder:
        return ValuePlaceholder(self, "uri")

    def property(self, name: str) -> ValuePlaceholder:
        """A typed property of the artifact, e.g. ``span``."""
        return ValuePlaceholder(self, "property", name)

    def custom_property(self, name: str) -> ValuePlaceholder:
        """A custom property of the artifact, e.g. a blessing's ``blessed``."""
        return ValuePlaceholder(self, "custom_property", name)

    def __repr__(self) -> str:
        return f"{self.source!r}[{self.index}]"


class ValuePlaceholder(Placeholder):
    """One value read from an artifact: its ``value``, ``uri``, a property or a custom property."""

    def __init__(self, artifact: ArtifactPlaceholder, kind: str, name: str = "") -> None:
        self.artifact = artifact
        self.kind = kind
        self.name = name

    def channels(self) -> list[Channel]:
        return self.artifact.channels()

    def resolve(self, read: Reader) -> Any:
        return artifact_value(self.artifact.resolve(read), self.kind, self.name, repr(self))

    def __repr__(self) -> str:
        if self.kind in ("value", "uri"):
            return f"{self.artifact!r}.{self.kind}"
        return f"{self.artifact!r}.{self.kind}({self.name!r})"


def artifact_value(artifact: Artifact, kind: str, name: str, label: str) -> Any:
    """One value of ``artifact``: its ``uri``, its ``value`` (a value artifact's), or its
    ``property`` / ``custom_property`` ``name``; errors start with ``label``, the placeholder."""
    if kind == "uri":
        return artifact.uri
    if kind == "value":
        if not isinstance(artifact, ValueArtifact):
            raise PlaceholderError(
                f"{label}: {artifact.TYPE_NAME} is not a value artifact (String, Integer, Float, ...); use .uri or a property"
            )
        try:
            return artifact.value
        except FileNotFoundError as error:
            raise MissingValueError(f"{label}: {artifact!r} has no value file ({error.filename})") from None
    values = artifact.properties if kind == "property" else artifact.custom_properties
    if values.get(name) is None:
        raise MissingValueError(f"{label}: {artifact!r} has no {kind.replace('_', ' ')} {name!r}")
    return values[name]


class Predicate(Placeholder):
    """A placeholder that resolves to a bool; the argument of ``Cond``. Combine with ``&``,
    ``|``, ``~`` or ``logical_and`` / ``logical_or`` / ``logical_not`` (not ``and``/``or``)."""

    def __and__(self, other: Predicate) -> Predicate:
        return logical_and(self, other)

    def __or__(self, other: Predicate) -> Predicate:
        return logical_or(self, other)

    def __invert__(self) -> Predicate:
        return logical_not(self)

    def missing_values(self, read: Reader) -> list[str]:
        """Why the values this predicate compares do not exist (each such comparison is false)."""
        return []

    def __bool__(self) -> bool:
        raise DefinitionError(
            f"{self!r} is only known at run time, so it has no truth value here; pass it to Cond(...) "
            "and combine predicates with logical_and/logical_or/logical_not (or &, |, ~), not and/or/not"
        )


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _channels_of(*values: Any) -> list[Channel]:
    return [channel for value in values if isinstance(value, Placeholder) for channel in value.channels()]


class Comparison(Predicate):
    """``left <symbol> right``; false when a side's artifact or value does not exist."""

    def __init__(self, symbol: str, left: Placeholder, right: Any) -> None:
        if isinstance(right, (ChannelPlaceholder, ArtifactPlaceholder)) or isinstance(left, (ChannelPlaceholder, ArtifactPlaceholder)):
            raise DefinitionError(f"compare a value, not artifacts: use e.g. .future()[0].value or .custom_property(name) ({left!r})")
        self.symbol = symbol
        self.left = left
        self.right = right

    def channels(self) -> list[Channel]:
        return _channels_of(self.left, self.right)

    def resolve(self, read: Reader) -> bool:
        try:
            left, right = (v.resolve(read) if isinstance(v, Placeholder) else v for v in (self.left, self.right))
        except MissingValueError:
            return False
        try:
            return bool(_OPERATORS[self.symbol](left, right))
        except TypeError as error:
            raise PlaceholderError(f"{self!r}: cannot compare {left!r} with {right!r}: {error}") from error

    def missing_values(self, read: Reader) -> list[str]:
        found = []
        for side in (self.left, self.right):
            try:
                if isinstance(side, Placeholder):
                    side.resolve(read)
            except MissingValueError as error:
                found.append(str(error))
        return found

    def __repr__(self) -> str:
        return f"{self.left!r} {self.symbol} {self.right!r}"


class _Logical(Predicate):
    def __init__(self, word: str, operands: tuple[Predicate, ...]) -> None:
        if not operands:
            raise DefinitionError(f"logical_{word} needs at least one predicate")
        for operand in operands:
            if not isinstance(operand, Predicate):
                raise DefinitionError(f"logical_{word} takes predicates (comparisons of placeholders), got {operand!r}")
        self.word = word
        self.operands = operands

    def channels(self) -> list[Channel]:
        return _channels_of(*self.operands)

    def resolve(self, read: Reader) -> bool:
        if self.word == "not":
            return not self.operands[0].resolve(read)
        results = (operand.resolve(read) for operand in self.operands)
        return all(results) if self.word == "and" else any(results)

    def missing_values(self, read: Reader) -> list[str]:
        return [reason for operand in self.operands for reason in operand.missing_values(read)]

    def __repr__(self) -> str:
        if self.word == "not":
            return f"not ({self.operands[0]!r})"
        return f" {self.word} ".join(f"({operand!r})" for operand in self.operands)


def logical_and(*predicates: Predicate) -> Predicate:
    """True when every predicate is true (evaluated left to right, stopping at the first false)."""
    return _Logical("and", predicates)


def logical_or(*predicates: Predicate) -> Predicate:
    """True when any predicate is true."""
    return _Logical("or", predicates)


def logical_not(predicate: Predicate) -> Predicate:
    """True when ``predicate`` is false."""
    return _Logical("not", (predicate,))
