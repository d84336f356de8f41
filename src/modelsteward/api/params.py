"""Bounds for the integers routes take from a path or a query string.

A number past what a column can hold names nothing, and handing it to the database
fails the request (SQLite: "Python int too large"); it is answered 422 instead.
A test walks the OpenAPI schema and sends a huge number to every integer parameter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_INT32 = 2**31 - 1  # ids, version and revision numbers: 32-bit columns on PostgreSQL
MAX_INT64 = 2**63 - 1

Number = Annotated[int, Path(ge=1, le=MAX_INT32)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT32)]
EarlierThan = Annotated[int | None, Query(ge=1, le=MAX_INT32)]
