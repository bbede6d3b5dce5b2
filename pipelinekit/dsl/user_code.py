"""The one rule for "is this the user's own code?", used wherever the answer matters.

User code is any Python file outside the standard library and the installed packages, whatever
its package is called (a user's package named ``components`` included): its changes re-key the
cache. Installed packages are libraries, versioned by their distribution. pipelinekit itself
(``pipelinekit.components`` too) is neither: its version is always in the key, and its frames are
never where a pipeline was written, so a relative path in a pipeline definition means "next to
the file that wrote it", wherever the pipeline is run from.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import sysconfig
from types import FrameType
from typing import Literal

__all__ = ["LIBRARY_ROOTS", "NOT_VERSIONED", "Kind", "module_kind", "top_level_kind", "is_user_module", "user_path"]

Kind = Literal["user", "library", "ignored", "missing"]

LIBRARY_ROOTS = tuple(
    os.path.abspath(p) + os.sep for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)
"""Folders of the standard library and installed packages: code under them is a library."""

NOT_VERSIONED = frozenset({"builtins", "__future__", "pipelinekit", "typing", "typing_extensions"})
"""Top-level modules that are neither user code nor a versioned library (pipelinekit's own
version is always in the key), besides the standard library."""

_TOP_LEVEL_KINDS: dict[str, Kind] = {}


def _ignored(top_level: str) -> bool:
    return top_level in NOT_VERSIONED or top_level in sys.stdlib_module_names


def top_level_kind(top_level: str) -> Kind:
    """``"user"``, ``"library"``, ``"ignored"`` (standard library, pipelinekit) or ``"missing"``
    for a top-level module name, found without importing it."""
    if _ignored(top_level):
        return "ignored"
    if top_level in _TOP_LEVEL_KINDS:
        return _TOP_LEVEL_KINDS[top_level]
    try:
        spec = importlib.util.find_spec(top_level)
    except (ImportError, ValueError):
        spec = None
    locations = [spec.origin] if spec and spec.origin and spec.has_location else []
    locations += list(spec.submodule_search_locations or ()) if spec else []
    if not locations:
        return "missing"  # not installed (an optional import), or built into the interpreter: asked again next time
    kind: Kind = "library" if all(os.path.abspath(p).startswith(LIBRARY_ROOTS) for p in locations) else "user"
    _TOP_LEVEL_KINDS[top_level] = kind
    return kind


@functools.lru_cache(maxsize=4096)
def module_kind(module_name: str) -> Kind:
    """The kind of a module by name: by its loaded file when it is loaded (``__main__``, a
    notebook's or an interactively made module is user code), else by :func:`top_level_kind`."""
    top = module_name.split(".")[0]
    if _ignored(top):
        return "ignored"
    module = sys.modules.get(module_name) or sys.modules.get(top)
    if module is None:
        return top_level_kind(top)
    path = getattr(module, "__file__", None)
    if module_name == "__main__" or (path is None and not hasattr(module, "__path__")):
        return "user"
    if path is None:
        return "library"
    return "library" if os.path.abspath(path).startswith(LIBRARY_ROOTS) else "user"


def is_user_module(module_name: str) -> bool:
    """Whether a module is the user's own code (its changes must re-key) rather than a library."""
    return module_kind(module_name) == "user"


def user_path(path: str) -> str:
    """``path`` made absolute against the folder of the file that declared the node; absolute
    paths and URLs are kept."""
    if not path or os.path.isabs(path) or "://" in path:
        return path
    return os.path.normpath(os.path.join(_defining_folder(sys._getframe(1)), path))


def _defining_folder(frame: FrameType | None) -> str:
    """The folder of the innermost caller from ``frame`` with a file that is not pipelinekit's or
    the standard library's (importlib, runpy), or the working directory (a notebook cell)."""
    while frame is not None:
        file = frame.f_code.co_filename
        if not file.startswith("<") and module_kind(str(frame.f_globals.get("__name__", ""))) != "ignored":
            return os.path.dirname(os.path.abspath(file))
        frame = frame.f_back
    return os.getcwd()
