#!/usr/bin/env bash
# Serving side by side in one run: a minimal FastAPI floor, modelsteward, `mlflow models
# serve` and BentoML, each in its own process with one worker, driven by one client.
#
#   bench/serving/run.sh            # 5 rounds of 1.2 s windows (about 7-9 minutes)
#   QUICK=1 bench/serving/run.sh    # 1 round of 0.5 s windows (smoke run, about 3 minutes)
#
# Knobs: ROUNDS, WINDOW (seconds per measurement), WARMUP (seconds), PIN=1 (servers on
# the last core, the client on the first), VARIANTS=0 (skip the log on/off, shadow and
# batching variants), KEEP=1 (keep the work folder), MLFLOW_VERSION (3.17.2),
# BENTOML_VERSION (1.4.39). Results: bench/results/serving.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
steward_py="${STEWARD_PYTHON:-$root/.venv/bin/python}"
steward_bin="$(dirname "$steward_py")"
mlflow_venv="$root/bench/.venv-mlflow"
bentoml_venv="$root/bench/.venv-bentoml"
floor_venv="$root/bench/.venv-floor"
mlflow_version="${MLFLOW_VERSION:-3.17.2}"
# 1.4.40 needs a certifi release newer than the package index here offers.
bentoml_version="${BENTOML_VERSION:-1.4.39}"

if [[ "${QUICK:-0}" == 1 ]]; then
  : "${ROUNDS:=1}" "${WINDOW:=0.5}" "${WARMUP:=0.2}"
fi
ROUNDS="${ROUNDS:-5}"
WINDOW="${WINDOW:-1.2}"
WARMUP="${WARMUP:-0.3}"
VARIANTS="${VARIANTS:-1}"

say() { printf '\n== %s ==\n' "$*"; }
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS

# -- virtual environments: the peers get the project's scikit-learn, pandas and NumPy --
if ! "$steward_py" -c "import modelsteward, sklearn, pandas, httpx" >/dev/null 2>&1; then
  echo "the project's venv lacks modelsteward or scikit-learn: run .venv/bin/pip install -e ." >&2
  exit 2
fi
read -r sklearn_v pandas_v numpy_v fastapi_v uvicorn_v < <("$steward_py" -c "
import importlib.metadata as m
print(*(m.version(d) for d in ('scikit-learn', 'pandas', 'numpy', 'fastapi', 'uvicorn')))")
pins=("scikit-learn==$sklearn_v" "pandas==$pandas_v" "numpy==$numpy_v")
quiet_pip() { "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }

has() {  # python, module...: whether every module is installed (found, not imported)
  "$1" -c "import importlib.util as u, sys; sys.exit(not all(map(u.find_spec, sys.argv[1:])))" \
    "${@:2}" 2>/dev/null
}
version_in() {  # python, distribution
  "$1" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$2"
}
if ! has "$mlflow_venv/bin/python" mlflow sklearn; then
  say "creating bench/.venv-mlflow (mlflow==$mlflow_version, ${pins[*]})"
  python3 -m venv "$mlflow_venv"
  quiet_pip "$mlflow_venv/bin/pip" install -q "mlflow==$mlflow_version" "${pins[@]}"
fi
if ! has "$floor_venv/bin/python" fastapi uvicorn orjson sklearn; then
  say "creating bench/.venv-floor (fastapi==$fastapi_v, uvicorn==$uvicorn_v, orjson, ${pins[*]})"
  python3 -m venv "$floor_venv"
  quiet_pip "$floor_venv/bin/pip" install -q "fastapi==$fastapi_v" "uvicorn==$uvicorn_v" orjson \
    "${pins[@]}"
fi
if ! has "$bentoml_venv/bin/python" bentoml sklearn; then
  say "creating bench/.venv-bentoml (bentoml==$bentoml_version, ${pins[*]})"
  python3 -m venv "$bentoml_venv"
  quiet_pip "$bentoml_venv/bin/pip" install -q "bentoml==$bentoml_version" "${pins[@]}"
fi
for venv in "$mlflow_venv" "$floor_venv" "$bentoml_venv"; do
  theirs="$(version_in "$venv/bin/python" scikit-learn)"
  if [[ "$theirs" != "$sklearn_v" ]]; then
    echo "warning: $venv has scikit-learn $theirs, the project $sklearn_v" >&2
  fi
done

export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true GIT_PYTHON_REFRESH=quiet
export BENTOML_DO_NOT_TRACK=true
# No access log line per request, as `steward server` and the floor (BentoML's is turned
# off in its service definition): `mlflow models serve` runs the uvicorn CLI, which
# reads UVICORN_* settings from the environment.
export UVICORN_ACCESS_LOG=false

work="$(mktemp -d "${TMPDIR:-/tmp}/serving-bench.XXXXXX")"
server_pids=()
tree() {  # a pid and its descendants (BentoML's worker leaves its parent's group)
  local child
  echo "$1"
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$child"; done
}
cleanup() {
  local pid all=()
  for pid in "${server_pids[@]}"; do all+=($(tree "$pid")); done
  for pid in "${server_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${all[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP:-0}" == 1 ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

server_cpu=() client_cpu=()
if [[ "${PIN:-0}" == 1 ]]; then
  last=$(($(nproc) - 1))
  server_cpu=(taskset -c "$last") client_cpu=(taskset -c 0)
fi
free_port() {
  python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}
declare -A ports pids
start() {  # name, log file, command...: in a process group of its own (pgid = pid)
  local name="$1" log="$2"
  shift 2
  ports[$name]="$(free_port)"
  local port="${ports[$name]}"
  setsid "${server_cpu[@]}" "${@//@PORT@/$port}" > "$log" 2>&1 &
  pids[$name]=$!
  server_pids+=($!)
}
wait_for() {  # name, path
  local url="http://127.0.0.1:${ports[$1]}$2"
  for _ in $(seq 600); do
    if curl -sf -o /dev/null --max-time 2 "$url"; then
      return 0
    fi
    if ! kill -0 "${pids[$1]}" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "$1 did not come up at $url; log:" >&2
  tail -n 30 "$work/$1.log" >&2
  return 1
}

say "models: LogisticRegression and a 100-tree RandomForest on 20 numeric features"
"$steward_py" "$here/prepare.py" --workdir "$work"
"$mlflow_venv/bin/python" "$here/mlflow_side.py" --workdir "$work" > "$work/mlflow-save.log" 2>&1 &
mlflow_save=$!

batching="$("$steward_py" -c "
from modelsteward.config import Settings
value = getattr(Settings.from_env({'STEWARD_HOME': '$work/probe'}), 'batching', None)
print('absent' if value is None else 'on' if value else 'off')")"

say "servers: one process and one worker each"
export STEWARD_HOME="$work/steward"
start steward "$work/steward.log" "$steward_bin/steward" server --port @PORT@ --workers 1
for m in lr rf; do
  start "floor-$m" "$work/floor-$m.log" "$floor_venv/bin/python" "$here/floor_app.py" \
    --model "$work/models/$m.pkl" --port @PORT@
  BENCH_MODEL="$work/models/$m.pkl" BENTOML_HOME="$work/bentoml" \
    start "bentoml-$m" "$work/bentoml-$m.log" "$bentoml_venv/bin/bentoml" serve \
    bento_service:Classifier --working-dir "$here" --host 127.0.0.1 --port @PORT@
done
wait_for steward /api/v1/health
"$steward_py" "$here/steward_side.py" setup --workdir "$work" \
  --url "http://127.0.0.1:${ports[steward]}" --token-file "$STEWARD_HOME/admin.token" &
steward_setup=$!
if ! wait "$mlflow_save"; then
  cat "$work/mlflow-save.log" >&2
  exit 1
fi
grep "\[mlflow\]" "$work/mlflow-save.log"
for m in lr rf; do
  # `mlflow models serve --env-manager local` needs the venv's bin on PATH (exit 127 otherwise)
  PATH="$mlflow_venv/bin:$PATH" start "mlflow-$m" "$work/mlflow-$m.log" \
    "$mlflow_venv/bin/mlflow" models serve -m "$work/mlflow/$m" --env-manager local \
    --host 127.0.0.1 --port @PORT@ --workers 1
done
wait "$steward_setup"
if [[ "$VARIANTS" == 1 ]]; then
  # The same store and deployments: a server whose prediction log the driver switches
  # on and off (to price the log within one process), and the other setting of adaptive
  # batching (when this build has the setting). Background work (monitor runs over the
  # log, from 15 minutes after the deployments) is left to the first server's worker:
  # in a variant it would land in whichever server claimed it.
  STEWARD_SCHEDULER_SECONDS=0 start steward-toggle "$work/steward-toggle.log" "$steward_py" \
    "$here/steward_side.py" serve-toggle --port @PORT@ --info "$work/steward-toggle.json"
  if [[ "$batching" != absent ]]; then
    flipped="$([[ "$batching" == on ]] && echo off || echo on)"
    STEWARD_BATCHING="$flipped" STEWARD_SCHEDULER_SECONDS=0 start steward-batching-flipped \
      "$work/steward-batching-flipped.log" "$steward_bin/steward" server --port @PORT@ --workers 1
  fi
fi
for m in lr rf; do
  wait_for "floor-$m" /health
  wait_for "mlflow-$m" /ping
  wait_for "bentoml-$m" /readyz
done
for name in steward-toggle steward-batching-flipped; do
  if [[ -n "${ports[$name]:-}" ]]; then wait_for "$name" /api/v1/health; fi
done

json_of() {  # an associative array's name -> a JSON object
  local -n of="$1"
  local out="{" sep=""
  for key in "${!of[@]}"; do out+="$sep\"$key\": ${of[$key]}"; sep=", "; done
  echo "$out}"
}
say "measuring: $ROUNDS round(s), ${WINDOW}s windows, systems interleaved (started $((SECONDS - started))s in)"
"${client_cpu[@]}" "$steward_py" "$here/drive.py" --workdir "$work" \
  --ports "$(json_of ports)" --pids "$(json_of pids)" --token-file "$STEWARD_HOME/admin.token" \
  --rounds "$ROUNDS" --window "$WINDOW" --warmup "$WARMUP" --out "$work/raw.json"

versions="$("$steward_py" -c "
import json, sys, importlib.metadata as md
print(json.dumps({'modelsteward': md.version('modelsteward'), 'mlflow': sys.argv[1],
  'bentoml': sys.argv[2], 'scikit-learn': md.version('scikit-learn'),
  'fastapi': md.version('fastapi'), 'uvicorn': md.version('uvicorn'),
  'http (every venv)': sys.argv[3]}))" \
  "$(version_in "$mlflow_venv/bin/python" mlflow)" \
  "$(version_in "$bentoml_venv/bin/python" bentoml)" \
  "$(for v in "$steward_py" "$floor_venv/bin/python" "$mlflow_venv/bin/python" "$bentoml_venv/bin/python"; do
       "$v" -c "import importlib.util as u; print('httptools' if u.find_spec('httptools') else 'h11', 'uvloop' if u.find_spec('uvloop') else 'asyncio')"
     done | sort -u | paste -sd '/')")"

say "results ($((SECONDS - started))s in all)"
"$steward_py" "$here/report.py" "$work/raw.json" --out "$root/bench/results/serving.json" \
  --versions "$versions" --batching "$batching" --load-before "$load_before"
