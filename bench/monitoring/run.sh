#!/usr/bin/env bash
# Drift summaries side by side in one run: a NumPy floor, modelsteward (`steward report`,
# the Python call, and a monitor run against a stored profile), Evidently, NannyML and
# whylogs, each a whole process reading the same Parquet files, with its peak memory.
#
#   bench/monitoring/run.sh            # 100 000 and 1 000 000 rows, a 50 000 000-row window
#   QUICK=1 bench/monitoring/run.sh    # 20 000 and 100 000 rows, a 2 000 000-row window
#
# Knobs: SIZES ("100000 1000000"), BIG (50000000; 0 skips), PEERS=0 (skip the reference
# tools), KEEP=1 (keep the data folder). Results: bench/results/monitoring.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
steward_py="${STEWARD_PYTHON:-$root/.venv/bin/python}"
steward_bin="$(dirname "$steward_py")"
if [[ "${QUICK:-0}" == 1 ]]; then
  : "${SIZES:=20000 100000}" "${BIG:=2000000}"
fi
SIZES="${SIZES:-100000 1000000}"
BIG="${BIG:-50000000}"
PEERS="${PEERS:-1}"

say() { printf '\n== %s ==\n' "$*"; }
quiet_pip() { "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
has() { "$1" -c "import importlib.util as u, sys; sys.exit(not all(map(u.find_spec, sys.argv[1:])))" "${@:2}" 2>/dev/null; }
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS

if ! "$steward_py" -c "import modelsteward.monitoring.report" >/dev/null 2>&1; then
  echo "the project's venv lacks modelsteward: run make install" >&2
  exit 2
fi
if [[ "$PEERS" == 1 ]]; then
  # Evidently 0.7 and whylogs 1.6 need NumPy 1 and pandas 2 (see shared BENCH-NOTES);
  # pyarrow 21 is the last release built for NumPy 1.
  old=("numpy==1.26.4" "pandas==2.3.3" "pyarrow==21.0.0")
  venv_for() { echo "$root/bench/.venv-$1"; }
  if ! has "$(venv_for evidently)/bin/python" evidently pyarrow; then
    say "creating bench/.venv-evidently (evidently==0.7.23, ${old[*]})"
    python3 -m venv "$(venv_for evidently)"
    quiet_pip "$(venv_for evidently)/bin/pip" install -q "evidently==0.7.23" "${old[@]}"
  fi
  if ! has "$(venv_for nannyml)/bin/python" nannyml pyarrow statsmodels; then
    say "creating bench/.venv-nannyml (nannyml==0.13.1)"
    python3 -m venv "$(venv_for nannyml)"
    quiet_pip "$(venv_for nannyml)/bin/pip" install -q "nannyml==0.13.1" pyarrow statsmodels
  fi
  if ! has "$(venv_for whylogs)/bin/python" whylogs pyarrow IPython; then
    say "creating bench/.venv-whylogs (whylogs[viz]==1.6.4, ${old[*]})"
    python3 -m venv "$(venv_for whylogs)"
    quiet_pip "$(venv_for whylogs)/bin/pip" install -q "whylogs[viz]==1.6.4" ipython "${old[@]}"
  fi
fi

# No usage telemetry from the reference tools (nothing outside can be reached anyway).
export NML_DISABLE_USAGE_LOGGING=1 DO_NOT_TRACK=1 EVIDENTLY_DISABLE_TELEMETRY=1

work="$(mktemp -d "${TMPDIR:-/tmp}/monitoring-bench.XXXXXX")"
cleanup() { if [[ "${KEEP:-0}" == 1 ]]; then echo "data kept in $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
runs="$work/runs.json"
sizes="$work/sizes.json"
echo "{}" > "$sizes"
measure() { "$steward_py" "$here/measure.py" "$runs" "$@"; }
record_size() {  # size, reference, current, big: the data's own size is its Arrow size
  "$steward_py" - "$sizes" "$@" <<'PY'
import json, os, sys
import pyarrow.parquet as pq
path, size, ref, cur, big = sys.argv[1:]
files = [cur] if big == "1" else [ref, cur]
nbytes = 0
for name in files:
    handle = pq.ParquetFile(name)
    nbytes += sum(handle.read_row_group(i).nbytes for i in range(handle.num_row_groups))
entry = {"data_mib": nbytes / 2**20, "parquet_mib": sum(os.path.getsize(f) for f in files) / 2**20,
         "big": big == "1"}
sizes = json.load(open(path)); sizes[size] = entry; json.dump(sizes, open(path, "w"))
PY
}

for size in $SIZES; do
  say "$size rows: generating"
  ref="$work/reference-$size.parquet"; cur="$work/current-$size.parquet"
  "$steward_py" "$here/generate.py" "$size" "$ref" --side reference
  "$steward_py" "$here/generate.py" "$size" "$cur" --side current
  record_size "$size" "$ref" "$cur" 0
  say "$size rows: each side a whole process (load $(cut -d' ' -f1 /proc/loadavg))"
  measure floor "$size" -- "$steward_py" "$here/floor.py" "$ref" "$cur" "$work/floor.json"
  measure "steward report (CLI)" "$size" -- "$steward_bin/steward" report "$ref" "$cur" \
    -o "$work/report-$size.html" --json "$work/report-$size.json" -q
  measure "steward build_report (Python)" "$size" -- "$steward_py" "$here/steward_side.py" report \
    "$ref" "$cur" "$work/python-$size.json"
  measure "steward profile (once)" "$size" -- "$steward_py" "$here/steward_side.py" profile \
    "$ref" "$work/profile-$size.json"
  measure "steward monitor (profile)" "$size" -- "$steward_py" "$here/steward_side.py" monitor \
    "$work/profile-$size.json" "$cur" "$work/monitor-$size.json"
  if [[ "$PEERS" == 1 ]]; then
    for peer in nannyml whylogs evidently; do
      measure "peer $peer" "$size" -- "$root/bench/.venv-$peer/bin/python" "$here/peers.py" "$peer" \
        "$ref" "$cur" "$work/$peer-$size.json"
    done
  fi
  measure floor "$size" -- "$steward_py" "$here/floor.py" "$ref" "$cur" "$work/floor.json"
  last="$size"
done

if [[ "$BIG" != 0 ]]; then
  say "a $BIG-row window against the $last-row reference's stored profile, streamed"
  big="$work/current-big.parquet"
  "$steward_py" "$here/generate.py" "$BIG" "$big" --side current --seed 7
  record_size "$BIG" "$big" "$big" 1
  measure "steward monitor (profile, streamed)" "$BIG" -- "$steward_py" "$here/steward_side.py" \
    monitor "$work/profile-$last.json" "$big" "$work/monitor-big.json"
fi

say "results ($((SECONDS - started)) s in all; load average before: $load_before)"
"$steward_py" "$here/report.py" "$runs" "$sizes" "$root/bench/results/monitoring.json"
