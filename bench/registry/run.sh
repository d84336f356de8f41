#!/usr/bin/env bash
# modelsteward's model registry side by side with MLflow's, on SQLite, in one run.
#
#   bench/registry/run.sh            # 1 000 models, 10 000 versions (about 3-5 minutes)
#   QUICK=1 bench/registry/run.sh    # 100 models, 1 000 versions (smoke run)
#
# Scale: MODELS, VERSIONS, REGISTER_OPS, GET_OPS, SEARCH_OPS (timed calls per operation;
# half as many over HTTP); CHUNKS (how finely the two sides are interleaved); HTTP=0
# skips the HTTP comparison; KEEP=1 keeps the stores (the folder is printed).
# BASELINE_PYTHON=/path/to/other/venv/bin/python adds an older build of modelsteward as a
# third side (in process only, its own store), to show how a change moved the ratios.
# Results: bench/results/registry.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
steward_py="${STEWARD_PYTHON:-$root/.venv/bin/python}"
mlflow_venv="$root/bench/.venv-mlflow"
mlflow_py="$mlflow_venv/bin/python"
mlflow_version="${MLFLOW_VERSION:-3.17.2}"

if [[ "${QUICK:-0}" == 1 ]]; then
  : "${MODELS:=100}" "${VERSIONS:=1000}" "${REGISTER_OPS:=100}" "${GET_OPS:=500}" "${SEARCH_OPS:=100}"
fi
MODELS="${MODELS:-1000}"
VERSIONS="${VERSIONS:-10000}"
REGISTER_OPS="${REGISTER_OPS:-500}"
GET_OPS="${GET_OPS:-2000}"
SEARCH_OPS="${SEARCH_OPS:-300}"
CHUNKS="${CHUNKS:-10}"
HTTP="${HTTP:-1}"

say() { printf '\n== %s ==\n' "$*"; }

if ! "$mlflow_py" -c "import mlflow, sklearn" >/dev/null 2>&1; then
  say "creating bench/.venv-mlflow (mlflow==$mlflow_version, scikit-learn)"
  python3 -m venv "$mlflow_venv"
  "$mlflow_venv/bin/pip" install -q "mlflow==$mlflow_version" scikit-learn 2>&1 \
    | { grep -v "is ignored: it is neither" || true; }
fi
if ! "$steward_py" -c "from modelsteward.registry.flavors.base import get_flavor; get_flavor('sklearn')"; then
  echo "modelsteward's sklearn flavor is not installed: run .venv/bin/pip install -e ." >&2
  exit 2
fi

# MLflow: no telemetry, no background job runner (its huey consumers are not part of the
# registry and would compete for the two cores), no git probing.
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true MLFLOW_ENABLE_ASYNC_LOGGING=false
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false GIT_PYTHON_REFRESH=quiet

work="$(mktemp -d "${TMPDIR:-/tmp}/registry-bench.XXXXXX")"
raw="$work/raw"
mkdir -p "$raw"
server_pids=()
cleanup() {
  for pid in "${server_pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${server_pids[@]}"; do
    for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  if [[ "${KEEP:-0}" == 1 ]]; then echo "stores kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

scale=(--workdir "$work" --models "$MODELS" --versions "$VERSIONS"
       --register-ops "$REGISTER_OPS" --get-ops "$GET_OPS" --search-ops "$SEARCH_OPS")
started=$SECONDS

say "fill: $MODELS models, $VERSIONS versions in each store (both at once, one core each)"
"$mlflow_py" "$here/mlflow_side.py" fill "${scale[@]}" > "$work/fill-mlflow.log" 2>&1 &
mlflow_fill=$!
"$steward_py" "$here/steward_side.py" fill "${scale[@]}" > "$work/fill-steward.log" 2>&1 &
steward_fill=$!
fill_failed=0
baseline=()
if [[ -n "${BASELINE_PYTHON:-}" ]]; then
  base_scale=(--workdir "$work/baseline" --models "$MODELS" --versions "$VERSIONS"
              --register-ops "$REGISTER_OPS" --get-ops "$GET_OPS" --search-ops "$SEARCH_OPS")
  mkdir -p "$work/baseline"
  "$BASELINE_PYTHON" "$here/steward_side.py" fill "${base_scale[@]}" > "$work/fill-baseline.log" 2>&1
  baseline=(--baseline "$(printf '%q ' "$BASELINE_PYTHON" "$here/steward_side.py" serve "${base_scale[@]}")")
fi
wait "$steward_fill" || fill_failed=1
wait "$mlflow_fill" || fill_failed=1
grep -h " fill\] .* in " "$work/fill-steward.log" "$work/fill-mlflow.log" || true
if [[ "$fill_failed" == 1 ]]; then
  echo "a fill failed; logs:" >&2
  tail -n 30 "$work/fill-steward.log" "$work/fill-mlflow.log" >&2
  exit 1
fi

q() { printf '%q ' "$@"; }

say "in process: both sides interleaved in $CHUNKS chunks per operation"
"$steward_py" "$here/drive.py" --transport in-process --chunks "$CHUNKS" --out "$raw/in-process.json" "${baseline[@]}" \
  --mlflow "$(q "$mlflow_py" "$here/mlflow_side.py" serve "${scale[@]}")" \
  --steward "$(q "$steward_py" "$here/steward_side.py" serve "${scale[@]}")"

free_port() { "$steward_py" -c "from modelsteward.api.server import free_port; print(free_port())"; }
wait_for() {  # url, log file
  for _ in $(seq 300); do
    if "$steward_py" -c "import httpx, sys; sys.exit(httpx.get('$1', timeout=2).status_code != 200)" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "server at $1 did not start; log:" >&2
  tail -n 30 "$2" >&2
  return 1
}

if [[ "$HTTP" == 1 ]]; then
  say "HTTP: one server process each (1 worker), the same httpx client, interleaved"
  http_scale=(--workdir "$work" --models "$MODELS" --versions "$VERSIONS"
              --register-ops "$((REGISTER_OPS / 2))" --get-ops "$((GET_OPS / 2))"
              --search-ops "$((SEARCH_OPS / 2))")
  mlflow_port="$(free_port)"
  setsid "$mlflow_venv/bin/mlflow" server --host 127.0.0.1 --port "$mlflow_port" --workers 1 \
    --backend-store-uri "sqlite:///$work/mlflow/mlflow.db" \
    --default-artifact-root "$work/mlflow/artifacts" > "$work/mlflow-server.log" 2>&1 &
  server_pids+=($!)
  steward_port="$(free_port)"
  STEWARD_HOME="$work/steward" setsid "$root/.venv/bin/steward" server --port "$steward_port" \
    > "$work/steward-server.log" 2>&1 &
  server_pids+=($!)
  wait_for "http://127.0.0.1:$mlflow_port/health" "$work/mlflow-server.log"
  wait_for "http://127.0.0.1:$steward_port/api/v1/health" "$work/steward-server.log"
  mlflow_server_version="$("$mlflow_py" -c "import mlflow; print(mlflow.__version__)")"
  steward_version="$("$steward_py" -c "import modelsteward; print(modelsteward.__version__)")"
  "$steward_py" "$here/drive.py" --transport http --chunks "$CHUNKS" --out "$raw/http.json" \
    --mlflow "$(q "$steward_py" "$here/http_side.py" serve "${http_scale[@]}" --system mlflow \
                --url "http://127.0.0.1:$mlflow_port" --server-version "$mlflow_server_version")" \
    --steward "$(q "$steward_py" "$here/http_side.py" serve "${http_scale[@]}" --system steward \
                 --url "http://127.0.0.1:$steward_port" --server-version "$steward_version")"
fi

say "results ($((SECONDS - started))s in all)"
"$steward_py" "$here/report.py" "$raw" --out "$root/bench/results/registry.json" \
  --scale "{\"models\": $MODELS, \"versions\": $VERSIONS, \"register_ops\": $REGISTER_OPS, \"get_ops\": $GET_OPS, \"search_ops\": $SEARCH_OPS, \"chunks\": $CHUNKS, \"http_ops\": \"half of the in-process counts\"}" \
  --work "$work"
