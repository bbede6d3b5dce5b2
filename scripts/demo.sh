#!/usr/bin/env bash
# The quickstart: set up .venv/, run the penguin pipeline (live progress), serve the pushed model
# with `pipelinekit serve`, ask it for predictions with TensorFlow Serving's official gRPC client,
# and stop the server. Arguments go to `pipelinekit run` (e.g. --runner local).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore

ROOT="${PENGUIN_ROOT:-$PWD/examples/penguin/pipeline_root}"
export PENGUIN_ROOT="$ROOT"
MODEL_DIR="$ROOT/serving_model/penguin"
GRPC_PORT="${PENGUIN_GRPC_PORT:-8500}"
REST_PORT="${PENGUIN_REST_PORT:-8501}"

.venv/bin/pipelinekit run examples/penguin/pipeline.py "$@"
if [ ! -d "$MODEL_DIR" ]; then
    echo "No model was pushed to $MODEL_DIR (the Evaluator did not bless it); see the run above." >&2
    exit 1
fi

echo "Serving $MODEL_DIR on gRPC :$GRPC_PORT and REST :$REST_PORT ..."
.venv/bin/pipelinekit serve --model_name=penguin --model_base_path="$MODEL_DIR" \
    --port="$GRPC_PORT" --rest_api_port="$REST_PORT" >"$ROOT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT

.venv/bin/python examples/penguin/predict.py --server "127.0.0.1:$GRPC_PORT" --model_dir "$MODEL_DIR"
echo "Stopping the server (its log: $ROOT/serve.log)."
