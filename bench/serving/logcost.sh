#!/usr/bin/env bash
# The prediction log's cost inside one modelsteward server (see logcost.py for why one):
#
#   bench/serving/logcost.sh              # 6 pairs of 2 s windows per figure (about 4 minutes)
#   ROUNDS=3 WINDOW=1 bench/serving/logcost.sh   # a quicker look
#
# Knobs: ROUNDS (pairs of log-on/log-off windows per figure), WINDOW (seconds), KEEP=1
# (keep the work folder). Needs only the project's venv. Results:
# bench/results/serving-logcost.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${STEWARD_PYTHON:-$root/.venv/bin/python}"
if ! "$python" -c "import modelsteward, sklearn, pandas, httpx" >/dev/null 2>&1; then
  echo "the project's venv lacks modelsteward or scikit-learn: run make install" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/serving-logcost.XXXXXX")"
server=""
cleanup() {
  if [[ -n "$server" ]]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [[ "${KEEP:-0}" == 1 ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port="$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
# Background work (monitor runs over the log) stays off: it would land in the windows.
export STEWARD_HOME="$work/steward" STEWARD_SCHEDULER_SECONDS=0

echo "== models: LogisticRegression and a 100-tree RandomForest on 20 numeric features =="
"$python" "$here/prepare.py" --workdir "$work"
"$python" "$here/steward_side.py" serve-toggle --port "$port" --info "$work/server.json" \
  > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do
  if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/api/v1/health"; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then tail -n 30 "$work/server.log" >&2; exit 1; fi
  sleep 0.2
done
"$python" "$here/steward_side.py" setup --workdir "$work" --url "http://127.0.0.1:$port" \
  --token-file "$STEWARD_HOME/admin.token"

echo "== the log on and off in one server: ${ROUNDS:-6} pairs of ${WINDOW:-2} s windows per figure =="
echo "  machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" "$here/logcost.py" --port "$port" --info "$work/server.json" \
  --token-file "$STEWARD_HOME/admin.token" --rounds "${ROUNDS:-6}" --window "${WINDOW:-2}" \
  --out "$root/bench/results/serving-logcost.json"
