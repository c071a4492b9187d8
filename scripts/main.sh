#!/usr/bin/env bash
# The main job: set up, evaluate GSM8K against the OpenAI-compatible server named by HYBENCH_MODEL, and
# write the report. HYBENCH_MODEL_NAME is the model name the server expects; HYBENCH_LIMIT limits items.
#   HYBENCH_MODEL=openai:http://127.0.0.1:8000/v1 HYBENCH_MODEL_NAME=my-model bash scripts/main.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${HYBENCH_MODEL:?set HYBENCH_MODEL, e.g. openai:http://127.0.0.1:8000/v1}"
bash scripts/setup.sh
data_args=()
[ -n "${HYBENCH_DATA_DIR:-}" ] || { [ -d ../shared/datasets ] && data_args=(--data-dir ../shared/datasets); }
limit_args=()
[ -z "${HYBENCH_LIMIT:-}" ] || limit_args=(--limit "$HYBENCH_LIMIT")
name_args=()
[ -z "${HYBENCH_MODEL_NAME:-}" ] || name_args=(--model-name "$HYBENCH_MODEL_NAME")
./build/hybench eval --model "$HYBENCH_MODEL" "${name_args[@]}" --suite gsm8k "${limit_args[@]}" \
  --db hybench.db --run "${HYBENCH_RUN:-main}" "${data_args[@]}"
./build/hybench report --db hybench.db --out hybench-report
echo "report: hybench-report/summary.md" >&2
