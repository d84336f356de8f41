"""A report of two uploaded data sets: what ``POST /api/v1/reports`` computes.

The uploads are files on disk whose names a client chose, so the format is read from
their first bytes (Parquet's magic number, else UTF-8 text read as CSV), never from
the name alone, and the name is only ever shown. With ``model`` the version's input
columns are compared, and a missing reference means its stored training-data profile.
Nothing is written anywhere but the caller's temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput, NotFound
from modelsteward.monitoring.drift import DriftConfig
from modelsteward.monitoring.report.build import Report, build_report
from modelsteward.monitoring.report.files import ParquetColumns, open_data
from modelsteward.profiles.dataset import DatasetProfile
from modelsteward.registry import versions as registry
from modelsteward.registry.models import get_model
from modelsteward.registry.views import VersionView

PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 64 * 1024
NAME_CHARS = 120


@dataclass(frozen=True)
class Upload:
    """An uploaded file: where the server put it, and the name the client gave it."""

    part: str
    path: Path
    filename: str = ""

    @property
    def shown(self) -> str:
        """The client's name for display only: its last path part, printable, shortened."""
        name = self.filename.replace("\\", "/").rsplit("/", 1)[-1]
        name = "".join(ch for ch in name if ch.isprintable())[:NAME_CHARS].strip()
        return name or self.part


def _is_text(head: bytes, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the sample is fine
        return not complete and exc.start >= len(head) - 3
    return True


def sniff(upload: Upload) -> str:
    """``parquet`` or ``csv``, from the bytes; anything else is ``InvalidInput``."""
    size = upload.path.stat().st_size
    if size == 0:
        raise InvalidInput(f"{upload.part}: the file is empty", details={"part": upload.part})
    with open(upload.path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
        handle.seek(max(size - len(PARQUET_MAGIC), 0))
        tail = handle.read()
    claims_parquet = Path(upload.shown).suffix.lower() in (".parquet", ".pq")
    if head.startswith(PARQUET_MAGIC) or claims_parquet:
        if head.startswith(PARQUET_MAGIC) and tail == PARQUET_MAGIC and size > 8:
            return "parquet"
        raise InvalidInput(
            f"{upload.part}: {upload.shown} is not a complete Parquet file",
            details={"part": upload.part},
        )
    if not _is_text(head, complete=size <= SNIFF_BYTES):
        raise InvalidInput(
            f"{upload.part}: expected a CSV or Parquet file", details={"part": upload.part}
        )
    return "csv"


def model_version(steward: Steward, spec: str) -> VersionView:
    """``NAME:VERSION`` (a number or an alias), or ``NAME`` for its latest version."""
    name, sep, ref = spec.strip().partition(":")
    if not name or (sep and not ref):
        raise InvalidInput("model must be NAME or NAME:VERSION")
    if not ref:
        latest = get_model(steward, name).latest_version
        if not latest:
            raise NotFound(f"model {name!r} has no versions")
        ref = str(latest)
    return registry.get_version(steward, name, ref)


def input_columns(version: VersionView) -> list[str] | None:
    """The version's named (non-tensor) input columns, from its registered schema."""
    columns = (version.input_schema or {}).get("columns") or []
    names = [c["name"] for c in columns if c.get("type") != "tensor" and c.get("name")]
    return names or None


def _opened(upload: Upload, wanted: Sequence[str] | None) -> ParquetColumns | pa.Table:
    """The upload renamed to carry its format's suffix, opened for reading columns."""
    located = upload.path.with_name(f"{upload.part}.{sniff(upload)}")
    os.replace(upload.path, located)
    return open_data(located, wanted)


def _names(data: Any) -> list[str]:
    return list(data.columns) if isinstance(data, DatasetProfile) else list(data.schema.names)


def report_from_uploads(
    steward: Steward,
    reference: Upload | None,
    current: Upload,
    *,
    model: str | None = None,
    columns: Sequence[str] | None = None,
) -> Report:
    """Drift, quality and distributions of ``current`` against ``reference`` (or, without
    it, against the training-data profile of ``model``)."""
    version = model_version(steward, model) if model else None
    wanted = list(columns) if columns else (input_columns(version) if version else None)
    folder = current.path.parent
    try:
        baseline: DatasetProfile | ParquetColumns | pa.Table
        if reference is not None:
            baseline = _opened(reference, wanted)
        elif version is None:
            raise InvalidInput("reference: upload a file, or name a model to use its profile")
        else:
            stored = (version.training_data or {}).get("profile")
            if not stored:
                raise InvalidInput(f"{model} has no stored training-data profile; upload one")
            baseline = DatasetProfile.from_dict(stored)
        window = _opened(current, wanted)
        common = set(_names(baseline)) & set(_names(window))
        if wanted is not None:
            common &= set(wanted)
        if not common:
            raise InvalidInput("the reference and current data have no common columns to compare")
        sources = {
            "reference": reference.shown if reference else f"{model} training-data profile",
            "current": current.shown,
        }
        return build_report(
            baseline, window, model=model, config=DriftConfig(columns=wanted), sources=sources
        )
    except InvalidInput as exc:  # name the part, never the server's temporary path
        message = exc.message.replace(f"{folder}{os.sep}", "")
        raise InvalidInput(message, details=exc.details) from None
