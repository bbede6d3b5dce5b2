"""The UI tests import their helpers (browser.py, synthetic_runs.py) from this folder."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
