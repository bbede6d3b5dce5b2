"""Relative paths in a pipeline definition mean "next to the file that wrote them".

A pipeline file run from another directory (``pipelinekit run path/to/pipeline.py``) must find
its module files and data the same way as when it is run from its own folder. Which frame wrote
them is decided by :mod:`pipelinekit.dsl.user_code`.
"""

from __future__ import annotations

import os
import sys

from pipelinekit.dsl.user_code import defining_folder

__all__ = ["user_path"]


def user_path(path: str) -> str:
    """``path`` made absolute against the folder of the file that declared the node; absolute
    paths and URLs are kept."""
    if not path or os.path.isabs(path) or "://" in path:
        return path
    return os.path.normpath(os.path.join(defining_folder(sys._getframe(1)), path))
