"""Relative paths in a pipeline definition mean "next to the file that wrote them".

A pipeline file run from another directory (``pipelinekit run path/to/pipeline.py``) must find
its module files and data the same way as when it is run from its own folder.
"""

from __future__ import annotations

import os
import sys

__all__ = ["user_path", "defining_folder"]

_LIBRARY_PACKAGES = ("pipelinekit", "importlib")


def defining_folder() -> str:
    """The folder of the innermost caller that is user code (not pipelinekit, not the standard
    components, not importlib), or the working directory when that caller has no file."""
    frame = sys._getframe(1)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        file = frame.f_code.co_filename
        if module.split(".")[0] not in _LIBRARY_PACKAGES and not file.startswith("<"):
            return os.path.dirname(os.path.abspath(file))
        frame = frame.f_back  # type: ignore[assignment]
    return os.getcwd()


def user_path(path: str) -> str:
    """``path`` made absolute against :func:`defining_folder`; absolute paths and URLs are kept."""
    if not path or os.path.isabs(path) or "://" in path:
        return path
    return os.path.normpath(os.path.join(defining_folder(), path))
