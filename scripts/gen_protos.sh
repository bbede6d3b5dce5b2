#!/usr/bin/env bash
# Compile pipelinekit/proto/*.proto into the committed *_pb2.py (and .pyi) files.
# Usage: scripts/gen_protos.sh [OUT_DIR]   (default: the repository root, i.e. in place;
# tests/components/test_data_protos.py generates into a temporary folder and compares).
# grpcio-tools is pinned in the dev extra (1.62.x) so the code targets protobuf 4.25.
# tensorflow_metadata's messages (imported by distribution_validator.proto) ship without their
# .proto files: protoc reads their descriptors, dumped from the installed package, instead.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-.}"
PYTHON="${PYTHON:-.venv/bin/python}"
INCLUDE="$("$PYTHON" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')"
mkdir -p "$OUT"
DESCRIPTORS="$(mktemp)"
trap 'rm -f "$DESCRIPTORS"' EXIT
"$PYTHON" - "$DESCRIPTORS" <<'PY'
import sys
from google.protobuf import descriptor_pb2
from tensorflow_metadata.proto.v0 import path_pb2, schema_pb2

found = descriptor_pb2.FileDescriptorSet()
seen = set()

def add(file):
    if file.name in seen:
        return
    seen.add(file.name)
    for dependency in file.dependencies:
        add(dependency)
    file.CopyToProto(found.file.add())

for module in (path_pb2, schema_pb2):
    add(module.DESCRIPTOR)
open(sys.argv[1], "wb").write(found.SerializeToString())
PY
"$PYTHON" -m grpc_tools.protoc -I . -I "$INCLUDE" --descriptor_set_in="$DESCRIPTORS" --python_out="$OUT" --pyi_out="$OUT" pipelinekit/proto/*.proto
