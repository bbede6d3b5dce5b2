"""``Cond``: run the nodes declared inside it only when a run-time predicate holds.

``with Cond(evaluator.outputs['blessing'].future()[0].custom_property('blessed') == 1):``
makes every node created in the block carry that predicate; nested blocks add theirs, and a
node runs only when all of them are true. When one is false the node is skipped (recorded in
ML Metadata as a CANCELED execution with the reason) and so are the nodes that depend on it;
the run does not fail because of it.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType

from pipelinekit.dsl.placeholder import Predicate
from pipelinekit.errors import DefinitionError

__all__ = ["Cond", "ConditionError", "active_conditions"]

_ACTIVE: ContextVar[tuple[Predicate, ...]] = ContextVar("pipelinekit_active_conditions", default=())


class ConditionError(DefinitionError, TypeError):
    """``Cond`` was given something that is not a predicate."""


class Cond:
    """A context manager; nodes created inside it run only if ``predicate`` is true at run time."""

    def __init__(self, predicate: Predicate) -> None:
        if not isinstance(predicate, Predicate):
            raise ConditionError(
                f"Cond takes a predicate built from placeholders, e.g. "
                f"Cond(node.outputs['blessing'].future()[0].custom_property('blessed') == 1); got {predicate!r}"
            )
        self.predicate = predicate
        self._tokens: list[Token[tuple[Predicate, ...]]] = []

    def __enter__(self) -> Cond:
        self._tokens.append(_ACTIVE.set((*_ACTIVE.get(), self.predicate)))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        _ACTIVE.reset(self._tokens.pop())

    def __repr__(self) -> str:
        return f"Cond({self.predicate!r})"


def active_conditions() -> tuple[Predicate, ...]:
    """The predicates of the ``Cond`` blocks the caller is inside, outermost first."""
    return _ACTIVE.get()
