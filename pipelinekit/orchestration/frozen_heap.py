"""Keep garbage collections from walking the libraries' objects while executors run.

An executor's process holds TensorFlow, Beam, TFT and TFDV: millions of long-lived objects.
Each full collection walks them all, about 0.2-0.5 s on two cores, and there are many: Python
starts one whenever the heap has grown by a quarter, and keras-tuner calls ``gc.collect()``
twice before every trial (8 calls, about 4 s, in the penguin Tuner). Inside ``frozen_heap()``
the objects that already existed are frozen (``gc.freeze``), so collections walk only what
the executor creates; garbage cycles it makes are still freed. The heap is unfrozen when the
last of the executors running at once leaves the block.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["frozen_heap"]

_lock = threading.Lock()
_holders = 0


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Within the block, collections skip every object that existed when it began."""
    global _holders
    with _lock:
        _holders += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
