"""Pusher: copies a blessed model to a serving base path as a new version."""

from pipelinekit.components.pusher.component import Pusher

__all__ = ["Pusher"]
