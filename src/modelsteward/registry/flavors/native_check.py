"""Parse a model file with a native library in a child process.

XGBoost and LightGBM parse their files in C++, and some malformed files make them abort
the whole process rather than raise. Validation runs that parse in a throwaway
interpreter, so a hostile or damaged upload is refused instead of taking the server down.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from modelsteward.errors import InvalidInput

TIMEOUT_S = 120.0

# The child script reads the file named by sys.argv[1], prints one JSON line of facts,
# and turns any exception into a one-line message on stderr with exit status 2.
_WRAPPER = """
import json, sys
try:
{body}
except Exception as exc:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    sys.stderr.write(type(exc).__name__ + ": " + first[:300] + "\\n")
    sys.exit(2)
print(json.dumps(facts))
"""


def parse_in_child(body: str, path: Path, *, what: str) -> dict[str, Any]:
    """Run ``body`` (which sets ``facts``) on ``path`` in a fresh interpreter."""
    script = _WRAPPER.format(body="\n".join("    " + line for line in body.splitlines()))
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", script, str(path)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InvalidInput(f"{path.name}: {what} took over {TIMEOUT_S:.0f}s to parse it") from exc
    if done.returncode < 0:
        raise InvalidInput(f"{path.name} is damaged: {what} crashed parsing it")
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["unknown error"]
        raise InvalidInput(f"{path.name} is not a valid {what} model: {lines[-1][:300]}")
    try:
        facts = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise InvalidInput(f"{path.name}: {what} gave no result parsing it") from exc
    if not isinstance(facts, dict):
        raise InvalidInput(f"{path.name}: {what} gave no result parsing it")
    return facts
