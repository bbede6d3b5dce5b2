"""Leave the process quickly once a command is done and everything it wrote is flushed.

After a pipeline run, Python's own shutdown tears down TensorFlow, Beam, TFT and TFMA module by
module: about 2 s on two cores after the run has finished and printed its result (1.7 s after
merely importing them). Nothing of ours needs that teardown: the run's records are committed,
its files closed. So the console script finishes the work shutdown would do that matters
(non-daemon threads joined, ``atexit`` functions run, logs and standard streams flushed) and
then ends the process with ``os._exit``.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from typing import NoReturn

__all__ = ["exit_after_flushing"]

_HEAVY_LIBRARIES = ("tensorflow", "apache_beam", "ml_metadata")


def exit_after_flushing(code: int) -> NoReturn:
    """End the process with ``code``: skip the interpreter's teardown when a heavy library is loaded."""
    if not any(name in sys.modules for name in _HEAVY_LIBRARIES):
        sys.exit(code)
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to save
            pass
    os._exit(code)
