"""Run one command as a whole process; append its wall time and peak memory to a JSON list.

    python measure.py RESULTS.json LABEL SIZE -- COMMAND...

Peak memory is the child's maximum resident set size from ``os.wait4`` (what
``/usr/bin/time -v`` prints), so interpreter start-up, imports and file reading count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    results, label, size, separator, *command = sys.argv[1:]
    if separator != "--" or not command:
        raise SystemExit("usage: measure.py RESULTS.json LABEL SIZE -- COMMAND...")
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    entry = {
        "label": label,
        "size": size,
        "seconds": round(wall, 3),
        "peak_mib": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "exit": code,
        "load": os.getloadavg()[0],
    }
    path = Path(results)
    runs = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps([*runs, entry], indent=1))
    print(f"  {label:<28} {size:>12} {wall:8.2f} s  {entry['peak_mib']:8.0f} MiB  exit {code}")
    if code != 0:
        raise SystemExit(code)


if __name__ == "__main__":
    main()
