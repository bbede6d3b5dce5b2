"""``python -m pipelinekit`` runs the CLI."""

import sys

from pipelinekit.cli import main

sys.exit(main())
