"""Semantic versions of pushed models, computed from what changed since the previous version.

Major when the serving signatures or the schema's required features changed (clients must
change), minor when the training data changed, patch otherwise (same data and interface:
new code, parameters or a retrain).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SEMVER", "next_semver", "change_reason"]

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
FIRST = "1.0.0"


def change_reason(previous: dict[str, Any], record: dict[str, Any]) -> str:
    """Which part of the version moves, and why: ``major: ...``, ``minor: ...`` or ``patch: ...``."""
    if previous.get("signature_digest") != record.get("signature_digest"):
        return "major: the serving signatures changed"
    if sorted(previous.get("required_features") or []) != sorted(record.get("required_features") or []):
        return "major: the schema's required features changed"
    if previous.get("data_fingerprint") != record.get("data_fingerprint"):
        return "minor: the training data changed"
    return "patch: same signatures, schema and data"


def next_semver(previous: dict[str, Any] | None, record: dict[str, Any]) -> tuple[str, str]:
    """The semantic version of ``record`` given the previous version's record, and why."""
    if previous is None:
        return FIRST, "first version"
    match = SEMVER.match(str(previous.get("semver", "")))
    major, minor, patch = (int(g) for g in match.groups()) if match else (1, 0, 0)
    reason = change_reason(previous, record)
    part = reason.split(":")[0]
    if part == "major":
        return f"{major + 1}.0.0", reason
    if part == "minor":
        return f"{major}.{minor + 1}.0", reason
    return f"{major}.{minor}.{patch + 1}", reason
