"""``pipelinekit ui``: a small read-mostly web app over a metadata store and a running model server.

Pages are modules of :mod:`pipelinekit.ui.pages`, each declaring a :class:`~pipelinekit.ui.pages.Page`
(its navigation entry and its routes); the app mounts those listed in ``pages.PAGES``.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from pipelinekit.ui.app import create_app

        return create_app
    raise AttributeError(name)
