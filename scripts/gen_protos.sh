#!/usr/bin/env bash
# Compile pipelinekit/proto/*.proto into the committed *_pb2.py (and .pyi) files.
# Usage: scripts/gen_protos.sh [OUT_DIR]   (default: the repository root, i.e. in place;
# tests/components/test_data_protos.py generates into a temporary folder and compares).
# grpcio-tools is pinned in the dev extra (1.62.x) so the code targets protobuf 4.25.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-.}"
PYTHON="${PYTHON:-.venv/bin/python}"
INCLUDE="$("$PYTHON" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')"
mkdir -p "$OUT"
"$PYTHON" -m grpc_tools.protoc -I . -I "$INCLUDE" --python_out="$OUT" --pyi_out="$OUT" pipelinekit/proto/*.proto
