"""Which versions of a model to serve, given the version folders found under its base path.

Implements TF Serving's ``ServableVersionPolicy``: the latest N (default 1), all, or a
specific list. Pure functions, so the policy is tested without TensorFlow.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TypeAlias

from tensorflow_serving.config import file_system_storage_path_source_pb2

__all__ = ["ServableVersionPolicy", "describe_policy", "list_version_dirs", "select_versions"]

ServableVersionPolicy: TypeAlias = (
    file_system_storage_path_source_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy
)


def list_version_dirs(base_path: str) -> dict[int, str]:
    """Map version number to folder for every all-digit folder under ``base_path``.

    ``00000123`` is version 123, as in TF Serving; other names (such as a pusher's temporary
    folder) are ignored. A missing base path has no versions.
    """
    try:
        entries = list(os.scandir(base_path))
    except FileNotFoundError:
        return {}
    return {int(entry.name): entry.path for entry in entries if entry.name.isdigit() and entry.is_dir()}


def select_versions(policy: ServableVersionPolicy, available: Iterable[int]) -> set[int]:
    """The versions to serve: a subset of ``available`` chosen by ``policy``."""
    versions = sorted(set(available))
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return set(versions)
    if choice == "specific":
        return set(policy.specific.versions) & set(versions)
    return set(versions[-_latest_count(policy) :])


def describe_policy(policy: ServableVersionPolicy) -> str:
    """A short human-readable name of the policy, for logs."""
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return "all versions"
    if choice == "specific":
        return f"specific versions {sorted(policy.specific.versions)}"
    return f"latest {_latest_count(policy)}"


def _latest_count(policy: ServableVersionPolicy) -> int:
    """N of a latest-N policy; an unset policy or N of 0 means latest 1, as in TF Serving."""
    return policy.latest.num_versions if policy.latest.num_versions > 0 else 1
