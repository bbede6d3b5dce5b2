"""Remember Beam's per-class DoFn state and timer introspection, which it repeats per bundle.

``apache_beam.transforms.userstate.get_dofn_specs`` walks every attribute of a DoFn and reads
the signature of each method to find state and timer parameters. Beam calls it again for each
transform when a pipeline is turned into protos and for each stage's bundle processor, on
fresh (unpickled) instances of the same few classes: about 2 s of a 10 s penguin Transform on
two cores. What it finds depends only on the class's methods, unless an instance holds bound
methods of its own (then Beam's function runs as before), so the answer is kept per class.
"""

from __future__ import annotations

import threading
import types
import weakref
from typing import Any

__all__ = ["install"]

_lock = threading.Lock()
_installed = False
_specs_by_class: weakref.WeakKeyDictionary[type, tuple[frozenset[Any], frozenset[Any]]] = weakref.WeakKeyDictionary()


def install() -> None:
    """Replace ``userstate.get_dofn_specs`` with the remembering version (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from apache_beam.transforms import userstate

        original = userstate.get_dofn_specs

        def get_dofn_specs(dofn: Any) -> tuple[set[Any], set[Any]]:
            cls = type(dofn)
            if not _answer_depends_on_class_only(dofn):
                return original(dofn)
            known = _specs_by_class.get(cls)
            if known is None:
                states, timers = original(dofn)
                known = _specs_by_class[cls] = (frozenset(states), frozenset(timers))
            return set(known[0]), set(known[1])

        get_dofn_specs.__doc__ = original.__doc__
        userstate.get_dofn_specs = get_dofn_specs
        _installed = True


def _answer_depends_on_class_only(dofn: Any) -> bool:
    """Whether every method Beam would inspect comes from the class: no bound methods kept on the
    instance, and no attribute hooks that could make ``dir`` or ``getattr`` answer per instance."""
    cls = type(dofn)
    if any(name in vars(klass) for klass in cls.__mro__[:-1] for name in ("__getattr__", "__getattribute__", "__dir__")):
        return False
    instance_attributes = getattr(dofn, "__dict__", {})
    return not any(isinstance(value, types.MethodType) for value in instance_attributes.values())
