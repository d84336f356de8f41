"""The process a run trains in: ``python -m modelsteward.training.child JOB.json``.

It limits its own address space first (``RLIMIT_AS``, before pandas or the user's code
is imported), then imports ``module:function`` from the pipeline's source, reads the data,
calls ``function(context)`` and writes what came back into the job's output folder: the
saved model, and ``result.json`` (metrics, schemas, library versions) or the reason it
failed. Standard output and error are the run's log; ``context.progress`` appends to
``progress.jsonl``, which the supervising process shows while the run goes on.
"""

from __future__ import annotations

import json
import resource
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIBRARIES = ("numpy", "pandas", "scikit-learn", "scipy", "skops", "xgboost", "lightgbm")
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class TrainingContext:
    """What the pipeline's function is given."""

    data: Any
    """The training data as a pandas DataFrame (the target column included)."""
    target: str
    params: dict[str, Any]
    seed: int
    out: Path = field(repr=False)

    def log(self, message: str) -> None:
        print(message, flush=True)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report how far the run is (0..1); visible in 'steward runs show' meanwhile."""
        line = json.dumps({"fraction": float(fraction), "message": str(message)[:500]})
        with (self.out / "progress.jsonl").open("a", encoding="utf-8") as f:
            f.write(line + "\n")


def limit_memory(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def import_entry_point(entry_point: str, source: Path) -> Any:
    """The function named by ``module:function``, imported from ``source``."""
    import importlib

    module_name, _, function_name = entry_point.partition(":")
    sys.path.insert(0, str(source if source.is_dir() else source.parent))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise LookupError(f"unknown module {module_name!r} in the pipeline's source") from None
        raise
    function = getattr(module, function_name, None)
    if not callable(function):
        raise LookupError(f"module {module_name!r} has no function {function_name!r}")
    return function


def read_data(location: str) -> Any:
    import pandas as pd

    try:
        if location.lower().endswith(".csv"):
            return pd.read_csv(location)
        return pd.read_parquet(location)
    except (OSError, ValueError) as exc:
        raise LookupError(f"cannot read the data: {type(exc).__name__}: {exc}"[:1000]) from None


def library_versions() -> dict[str, str]:
    from importlib import metadata

    found = {"python": sys.version.split()[0]}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _renumbered(entries: list[tuple[Any, bytes]]) -> list[tuple[str, bytes]]:
    """skops names shared objects and array files by ``id()`` (a memory address, new on
    every run); number them by first appearance in ``schema.json`` instead."""
    import re

    found = dict(entries_by_name(entries))
    schema = found.get("schema.json")
    if schema is None:
        return [(info.filename, data) for info, data in entries]
    pattern = re.compile(rb'(?<="__id__": )\d+|(?<=")\d+(?=\.npy")')
    numbers: dict[bytes, bytes] = {}
    for match in pattern.finditer(schema):
        numbers.setdefault(match.group(), str(len(numbers) + 1).encode())
    renamed = []
    for info, data in entries:
        name = info.filename
        if name == "schema.json":
            data = pattern.sub(lambda m: numbers.get(m.group(), m.group()), data)
        elif name.endswith(".npy") and name[:-4].encode() in numbers:
            name = numbers[name[:-4].encode()].decode() + ".npy"
        renamed.append((name, data))
    return renamed


def entries_by_name(entries: list[tuple[Any, bytes]]) -> list[tuple[str, bytes]]:
    return [(info.filename, data) for info, data in entries]


def normalise_zip(path: Path) -> None:
    """Rewrite a zip (skops files are zips) with fixed entry times and numbered object
    ids, so that training the same model twice gives the same bytes."""
    import zipfile

    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
        kinds = {info.filename: info.compress_type for info in source.infolist()}
    renamed = _renumbered(entries)
    with zipfile.ZipFile(path, "w") as target:
        for (name, data), (info, _) in zip(renamed, entries, strict=True):
            fixed = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = kinds[info.filename]
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)


def train(job: dict[str, Any], out: Path) -> dict[str, Any]:
    function = import_entry_point(job["entry_point"], Path(job["source"]))
    data = read_data(job["data"])
    target = job["target"]
    if target not in data.columns:
        raise LookupError(f"the data has no target column {target!r}")
    context = TrainingContext(data, target, dict(job["params"]), int(job["seed"]), out)
    returned = function(context)
    model, metrics = returned if isinstance(returned, tuple) and len(returned) == 2 else (None, {})
    if model is None:
        raise LookupError("the pipeline returned no model (it must return (model, metrics))")
    if not isinstance(metrics, dict):
        raise LookupError("the pipeline's metrics must be a dict of names to numbers")
    from modelsteward.registry.flavors.base import flavor_for
    from modelsteward.registry.schema_inference import infer_schema

    flavor = flavor_for(model)
    (out / "model").mkdir()
    saved = flavor.save(model, out / "model")
    for path in saved:
        normalise_zip(path)
    features = data.drop(columns=[target])
    sample = features.head(20)
    return {
        "ok": True,
        "flavor": flavor.name,
        "files": [p.name for p in saved],
        "metrics": {str(k): float(v) for k, v in metrics.items()},
        "input_schema": infer_schema(sample),
        "output_schema": infer_schema(model.predict(sample)),
        "rows": len(data),
        "libraries": library_versions(),
    }


def check(job: dict[str, Any]) -> dict[str, Any]:
    """Creation-time check: the function exists, the data is readable and has the target."""
    import_entry_point(job["entry_point"], Path(job["source"]))
    if job.get("data"):
        data = read_data(job["data"])
        if job["target"] not in data.columns:
            raise LookupError(f"the data has no target column {job['target']!r}")
    return {"ok": True}


def exit_with_parent(interval_s: float = 1.0) -> None:
    """Stop when the supervising process dies: its run is failed by the reaper, so an
    orphan would only burn CPU and memory (it runs in a session of its own, so nothing
    else would stop it)."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(137)

    threading.Thread(target=watch, name="steward-run-watchdog", daemon=True).start()


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    out = Path(job["out"])
    limit_memory(int(job["memory_mb"]))
    exit_with_parent()
    try:
        result = check(job) if job.get("check") else train(job, out)
    except MemoryError:
        result = {"ok": False, "error": f"ran out of memory (limit {job['memory_mb']} MB)"}
    except LookupError as exc:
        result = {"ok": False, "error": str(exc.args[0]) if exc.args else str(exc)}
    except BaseException as exc:  # the user's code may raise anything; report, then exit
        traceback.print_exc()
        result = {"ok": False, "error": f"the pipeline raised {type(exc).__name__}: {exc}"[:2000]}
    try:
        (out / "result.json").write_text(json.dumps(result), encoding="utf-8")
    except MemoryError:
        return 3
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
