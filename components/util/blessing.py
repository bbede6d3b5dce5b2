"""TFX's one rule for reading a verdict, shared by the Pusher and the BulkInferrer: a blessing
blesses only when its custom property ``blessed`` is 1 (``model_utils.is_model_blessed`` and
``is_infra_validated``). The ``BLESSED`` marker file alone does not count, in TFX or here."""

from __future__ import annotations

import os

from pipelinekit.types.standard import InfraBlessing, ModelBlessing

__all__ = ["refusal"]


def refusal(name: str, blessing: ModelBlessing | InfraBlessing) -> str | None:
    """Why the input ``name`` does not bless its model, for people; ``None`` when it does."""
    if blessing.blessed == 1:
        return None
    if blessing.blessed is None:
        marker = f" (its {blessing.BLESSED_FILE} file is not read: TFX reads the property only)"
        why = "has no 'blessed' custom property" + (
            marker if os.path.exists(os.path.join(blessing.uri, blessing.BLESSED_FILE)) else ""
        )
        return (
            f"{name} {blessing.uri} {why}; a blessing made outside a pipeline needs custom_properties={{'blessed': 1}} "
            "on its importer"
        )
    reason = blessing.custom_properties.get("reason")
    return f"{name} {blessing.uri} is not blessed" + (f" ({reason})" if reason else "")
