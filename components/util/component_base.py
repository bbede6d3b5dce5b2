"""``StandardComponent``: a ``Component`` base whose subclasses inherit declared specs.

pipelinekit's ``Component`` reads the InputSpec/OutputSpec/ParameterSpec attributes of the
class itself only; the standard components share specs through a base class
(CsvExampleGen and ImportExampleGen), so they are copied down before the spec is built.
"""

from __future__ import annotations

from typing import Any

from pipelinekit.dsl.component import Component
from pipelinekit.dsl.spec import InputSpec, OutputSpec, ParameterSpec

__all__ = ["StandardComponent"]


class StandardComponent(Component):
    """Base of the standard components; never used directly."""

    EXECUTOR = "pipelinekit.components.util.component_base:_abstract"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        for base in cls.__mro__[1:]:
            for key, value in vars(base).items():
                if isinstance(value, (InputSpec, OutputSpec, ParameterSpec)) and key not in vars(cls):
                    setattr(cls, key, value)
        super().__init_subclass__(**kwargs)


def _abstract(**_: Any) -> None:
    raise NotImplementedError("StandardComponent is a base class; use one of the standard components")
