#!/usr/bin/env bash
# Set up .venv/ if needed, then run the example pipeline with the Beam runner.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/pipelinekit run examples/demo/pipeline.py "$@"
