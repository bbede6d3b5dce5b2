"""Weigh what Beam's state cache holds without listing every module first, each time.

The FnApiRunner caches side inputs and weighs each one it loads with objsize, and objsize starts
every call by collecting the globals dict of each loaded module (some 15,000 with TensorFlow) so
as to leave them out: about 6 ms a call, 130 calls and 0.8 s of the penguin Transform. Here that
collection is kept and redone only when the set of loaded modules changes; the traversal and the
weights are objsize's, with Beam's own size, referents and filter functions. A weight only decides
when the cache evicts, never what a pipeline computes.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

__all__ = ["install"]

_lock = threading.Lock()
_installed = False
_module_dicts: tuple[int, frozenset[int]] = (-1, frozenset())


def install() -> None:
    """Replace ``statecache.get_deep_size`` with the remembering version (once per process); left
    as it is when this Beam lacks the functions it is built from."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        import objsize
        from apache_beam.runners.worker import statecache

        parts = [getattr(statecache, name, None) for name in ("_size_func", "_get_referents_func", "_filter_func")]
        if not all(callable(part) for part in parts) or not callable(getattr(statecache, "get_deep_size", None)):
            return
        size, referents, keep = parts
        settings = objsize.traverse.ObjSizeSettings(
            get_referents_func=referents, filter_func=keep, get_size_func=size, exclude_modules_globals=False
        )

        def get_deep_size(*objs: Any) -> int:
            context = objsize.traverse.TraversalContext(settings)
            context.exclude_set.update(_module_dict_ids())
            return context.get_deep_size(*objs)

        statecache.get_deep_size = get_deep_size


def _module_dict_ids() -> frozenset[int]:
    """The ids of the loaded modules' globals dicts, as objsize leaves them out, collected again
    only when the number of loaded modules changed."""
    global _module_dicts
    count, ids = _module_dicts
    if count != len(sys.modules):
        modules = list(sys.modules.values())
        ids = frozenset(id(vars(module)) for module in modules if hasattr(module, "__dict__"))
        _module_dicts = (len(modules), ids)
    return ids
