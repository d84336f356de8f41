"""modelsteward from Python: the SDK-level call a notebook makes, and the monitor run.

python steward_side.py report REFERENCE.parquet CURRENT.parquet OUT.json
    build_report on both files (exact mode), JSON and HTML written
python steward_side.py profile REFERENCE.parquet PROFILE.json
    the baseline profile a version stores at registration (timed apart)
python steward_side.py monitor PROFILE.json CURRENT.parquet OUT.json
    a monitor run: the stored profile against the window, read batch by batch
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq

from modelsteward.monitoring.drift import DriftConfig, compare_profile
from modelsteward.monitoring.report import build_report
from modelsteward.monitoring.report.files import open_data
from modelsteward.profiles.dataset import DatasetProfile, profile_dataset

BATCH_ROWS = 250_000  # rows read at a time: memory stays flat however long the window


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "report":
        reference, current, out = args
        report = build_report(open_data(reference), open_data(current))
        Path(out).write_text(report.to_json())
        Path(out).with_suffix(".html").write_text(report.to_html())
    elif command == "profile":
        reference, out = args
        Path(out).write_text(json.dumps(profile_dataset(pq.read_table(reference)).to_dict()))
    elif command == "monitor":
        stored, current, out = args
        profile = DatasetProfile.from_dict(json.loads(Path(stored).read_text()))
        # pre_buffer would cache every row group read so far: off, memory stays flat
        batches = pq.ParquetFile(current, pre_buffer=False).iter_batches(batch_size=BATCH_ROWS)
        result = compare_profile(profile, batches, DriftConfig())
        Path(out).write_text(json.dumps(result.to_dict()))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
