"""Request ids: the client's ``x-request-id`` (gRPC metadata or REST header), else one the server
makes; in force for the call (a context variable) so the request log writes it, and sent back
to the client (gRPC trailing metadata, REST response header), so labels can be keyed by it."""

from __future__ import annotations

import contextvars
import uuid

__all__ = ["REQUEST_ID_HEADER", "MAX_REQUEST_ID_LENGTH", "request_id", "resolve_request_id"]

REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID_LENGTH = 128  # longer client ids are replaced: a log record must stay small
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def resolve_request_id(given: object) -> str:
    """The client's id when it is a usable string (printable, at most 128 characters), else a new one."""
    if isinstance(given, str) and 0 < len(given) <= MAX_REQUEST_ID_LENGTH and given.isprintable():
        return given
    return uuid.uuid4().hex
