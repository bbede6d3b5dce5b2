"""The Artifact base class: a typed, URI-addressed output of a node, with typed properties.

Subclasses declare their properties as class attributes made with :class:`Property`, and are
registered by type name so an artifact read back from ML Metadata becomes the right class.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from pipelinekit.errors import DefinitionError

__all__ = ["Artifact", "Property", "artifact_class_for", "check_property", "PROPERTY_TYPES"]

PROPERTY_TYPES: tuple[type, ...] = (int, float, str)
CUSTOM_PROPERTY_TYPES: tuple[type, ...] = (int, float, str, bool, dict, list)

_REGISTRY: dict[str, type[Artifact]] = {}


class Property:
    """A typed property of an artifact type, stored as an MLMD type property."""

    def __init__(self, value_type: type, doc: str = "") -> None:
        if value_type not in PROPERTY_TYPES:
            raise DefinitionError(f"artifact property type must be int, float or str, not {value_type!r}")
        self.value_type = value_type
        self.doc = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Artifact | None, owner: type) -> Any:
        if instance is None:
            return self
        return instance.properties.get(self.name)

    def __set__(self, instance: Artifact, value: Any) -> None:
        instance.properties[self.name] = check_property(self, value)


def check_property(prop: Property, value: Any) -> Any:
    """``value`` as property ``prop`` stores it (an int given to a float property becomes a
    float); a TypeError naming the property when it does not fit."""
    if value is None:
        return None
    if prop.value_type is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, prop.value_type) or isinstance(value, bool):
        raise TypeError(f"property {prop.name!r} takes {prop.value_type.__name__}, got {type(value).__name__} {value!r}")
    return value


class Artifact:
    """A typed pointer to data at ``uri``, with typed ``properties`` and free ``custom_properties``.

    ``TYPE_NAME`` (by default the class name) is the ML Metadata type name; two classes may not
    share one. ``id`` is the MLMD id once the artifact is published.
    """

    TYPE_NAME: ClassVar[str] = "Artifact"
    PROPERTIES: ClassVar[dict[str, Property]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TYPE_NAME = cls.__dict__.get("TYPE_NAME", cls.__name__)
        inherited = {k: v for base in reversed(cls.__mro__[1:]) for k, v in getattr(base, "PROPERTIES", {}).items()}
        own = {k: v for k, v in cls.__dict__.items() if isinstance(v, Property)}
        cls.PROPERTIES = {**inherited, **own}
        existing = _REGISTRY.get(cls.TYPE_NAME)
        if existing is not None and _clashes(existing, cls):
            hint = f"use it (from pipelinekit import {existing.__name__}) or" if existing.__module__ == _STANDARD_MODULE else ""
            raise DefinitionError(
                f"artifact type name {cls.TYPE_NAME!r} is already used by {existing.__module__}.{existing.__qualname__}; "
                f"{hint} set TYPE_NAME on {cls.__module__}.{cls.__qualname__} to a unique name".replace(";  ", "; ")
            )
        _REGISTRY[cls.TYPE_NAME] = cls

    def __init__(self, uri: str = "", **properties: Any) -> None:
        self.uri = uri
        self.id: int | None = None
        self.name = ""
        self.state = "PENDING"
        self.properties: dict[str, Any] = {}
        self.custom_properties: dict[str, Any] = {}
        for key, value in properties.items():
            if key not in self.PROPERTIES:
                known = ", ".join(sorted(self.PROPERTIES)) or "none"
                raise TypeError(f"{self.TYPE_NAME} has no property {key!r} (its properties: {known})")
            setattr(self, key, value)

    def set_custom_property(self, key: str, value: Any) -> None:
        """Attach a free-form property (int, float, str, bool, dict or list) recorded in MLMD."""
        if not isinstance(value, CUSTOM_PROPERTY_TYPES):
            raise TypeError(f"custom property {key!r} must be int, float, str, bool, dict or list, not {type(value).__name__}")
        self.custom_properties[key] = value

    def split_uri(self, split: str) -> str:
        """The folder of one split, ``<uri>/Split-<split>``, the layout TFX uses."""
        return os.path.join(self.uri, f"Split-{split}")

    def __repr__(self) -> str:
        ident = f"id={self.id}, " if self.id is not None else ""
        return f"{self.TYPE_NAME}({ident}uri={self.uri!r})"


_STANDARD_MODULE = "pipelinekit.types.standard"


def _clashes(existing: type, new: type) -> bool:
    """Whether ``new`` would silently replace another class under the same MLMD type name. The same
    class defined again (a reloaded module, a re-run notebook cell) does not clash."""
    if existing.__module__ == new.__module__:
        return False
    return existing.__module__ == _STANDARD_MODULE or existing.__qualname__ != new.__qualname__


def artifact_class_for(type_name: str) -> type[Artifact]:
    """The registered class for an MLMD type name; an unknown name gets a plain subclass."""
    cls = _REGISTRY.get(type_name)
    if cls is None:
        cls = type(type_name, (Artifact,), {"TYPE_NAME": type_name, "__module__": __name__})
    return cls
