"""The admin API's token file: created with mode 0600, refused when others can read it.

Light on purpose (no TensorFlow): ``pipelinekit route`` reads the token with it.
"""

from __future__ import annotations

import os
import secrets
import stat

from pipelinekit.serving.routes import RouteConfigError

__all__ = ["read_token", "write_token"]


def write_token(path: str) -> str:
    """The token in ``path``, creating the file (mode 0600, a fresh random token) when missing."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token(path)
    token = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def read_token(path: str) -> str:
    """The token in ``path``; refused when the file is missing, empty or readable by others."""
    try:
        mode = os.stat(path).st_mode
        with open(path, encoding="utf-8") as handle:
            token = handle.read().strip()
    except OSError as exc:
        raise RouteConfigError(
            f"cannot read the admin token file {path!r}: {exc.strerror}; start the server with "
            "--admin_token_file to create it, and pass the same path here",
            code="UNAUTHENTICATED",
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise RouteConfigError(
            f"the admin token file {path!r} can be read by others (mode {stat.S_IMODE(mode):o}); run chmod 600 on it",
            code="PERMISSION_DENIED",
        )
    if not token:
        raise RouteConfigError(f"the admin token file {path!r} is empty; delete it and restart the server")
    return token
