"""The state of one model version, as GetModelStatus reports it (shared by the server and the client)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VersionStatus"]


@dataclass(frozen=True)
class VersionStatus:
    """One version's state as GetModelStatus reports it (state names of ModelVersionStatus.State)."""

    version: int
    state: str
    error_code: str = "OK"
    error_message: str = ""
