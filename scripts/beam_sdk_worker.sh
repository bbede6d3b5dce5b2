#!/usr/bin/env bash
# The command of a Beam PROCESS environment (--environment_config={"command": "<this file>"}):
# a Python SDK worker on this project's .venv, booted by pipelinekit.orchestration.beam_worker_boot.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning}" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec "$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python" -m pipelinekit.orchestration.beam_worker_boot "$@"
