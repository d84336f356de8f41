#!/usr/bin/env bash
# Where a steward server's time goes per prediction request: py-spy on `steward server`
# (one worker) while the benchmark's client drives it.
#
#   bench/serving/profile.sh          # five scenarios, 15 s each (about 3 minutes)
#
# py-spy is installed into a temporary virtual environment (PYSPY_VENV, default
# /tmp/serving-pyspy), never into the project's. It samples the thread holding the GIL
# (--gil): a one-worker Python server is bound by it, and sampling every thread would
# also count threads waiting to get it back as busy (with eight request threads, a
# call into pyarrow that releases the GIL then looks like a quarter of the CPU).
# Knobs: SECONDS_EACH (15), RATE (250 samples/s), ALL_THREADS=1 (sample every thread,
# --gil off), KEEP=1 (keep the work folder with the raw stacks: py-spy's raw format is
# the collapsed-stack format flame graph tools read).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
steward_py="${STEWARD_PYTHON:-$root/.venv/bin/python}"
steward_bin="$(dirname "$steward_py")"
pyspy_venv="${PYSPY_VENV:-/tmp/serving-pyspy}"
seconds="${SECONDS_EACH:-15}"
rate="${RATE:-250}"
gil=(--gil)
if [[ "${ALL_THREADS:-0}" == 1 ]]; then gil=(); fi

if ! "$pyspy_venv/bin/py-spy" --version >/dev/null 2>&1; then
  python3 -m venv "$pyspy_venv"
  "$pyspy_venv/bin/pip" install -q py-spy 2>&1 | { grep -v "is ignored: it is neither" || true; }
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/serving-profile.XXXXXX")"
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" || true; fi
  if [[ "${KEEP:-0}" == 1 ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port="$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
"$steward_py" "$here/prepare.py" --workdir "$work"
export STEWARD_HOME="$work/steward"
"$steward_bin/steward" server --port "$port" --workers 1 > "$work/steward.log" 2>&1 &
server=$!
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.2
done
"$steward_py" "$here/steward_side.py" setup --workdir "$work" --url "http://127.0.0.1:$port" \
  --token-file "$STEWARD_HOME/admin.token"

scenario() {  # label, model, deployment variant, rows, concurrency
  local label="$1" model="$2" variant="$3" rows="$4" concurrency="$5"
  local load=("$steward_py" "$here/loadgen.py" --port "$port" --rows "$rows"
              --path "/api/v1/deployments/bench-$model-$variant/predict"
              --token-file "$STEWARD_HOME/admin.token")
  "${load[@]}" --concurrency "$concurrency" --seconds 2 > /dev/null  # warm-up
  printf '\n== %s ==\n' "$label"
  "${load[@]}" --concurrency "$concurrency" --seconds "$((seconds + 2))" > "$work/load.txt" &
  local driver=$!
  sleep 1
  "$pyspy_venv/bin/py-spy" record --pid "$server" --rate "$rate" --duration "$seconds" \
    "${gil[@]}" --format raw --threads --nonblocking --output "$work/$model-$variant-$rows-c$concurrency.txt" \
    > /dev/null 2>&1
  wait "$driver"
  cat "$work/load.txt"
  "$steward_py" "$here/profile_summary.py" "$work/$model-$variant-$rows-c$concurrency.txt" \
    --rate "$rate"
}

scenario "LogisticRegression, single row, concurrency 8" lr production single 8
scenario "LogisticRegression, 1000-row batches, concurrency 1" lr production batch 1
scenario "RandomForest, single row, concurrency 32" rf production single 32
scenario "RandomForest, single row, concurrency 1" rf production single 1
scenario "LogisticRegression with a shadow, single row, concurrency 1" lr shadowed single 1
