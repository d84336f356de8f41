"""The ``business_kpi`` family: a user's KPI over the window, with a threshold.

The KPI is either ``sql``, a DuckDB query over the table ``predictions`` (see
``business_kpi.sql`` for its columns and the sandbox it runs in), or ``function``, a KPI
registered by name (``functions`` beside it). Its value is the metric ``kpi``, the
point's column the KPI's name (``metric``, by default the function's name), so
``thresholds={"kpi": {"min": 0.2}}`` bounds it like any other metric. A query returning
(segment, value) rows, or a function returning a mapping, gives one point per segment.
Built-in functions carry a 95% band from a seeded bootstrap over rows; SQL KPIs and
other functions carry none (re-running a query per resample costs too much).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.bands import bootstrap
from modelsteward.monitoring.families.base import (
    Family,
    FamilyContext,
    FamilyResult,
    too_small,
)
from modelsteward.monitoring.families.business_kpi.functions import KPIS
from modelsteward.monitoring.families.business_kpi.sql import (
    check_sql,
    number,
    predictions_table,
    run_sql_kpi,
)
from modelsteward.monitoring.points import Point
from modelsteward.monitoring.specs import MonitorSpec, Name
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.monitoring.windows.segments import segments

NO_BAND = "no band for SQL KPIs"


class BusinessKpiSpec(MonitorSpec):
    metrics = ("kpi",)
    type: Literal["business_kpi"] = "business_kpi"
    metric: Name | None = Field(default=None, description="The KPI's name (its points' column)")
    sql: Annotated[str, Field(min_length=1, max_length=20_000)] | None = None
    function: Name | None = Field(default=None, description="A registered KPI function")
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0
    bootstrap: Annotated[int, Field(ge=20, le=2000)] = 200

    @model_validator(mode="after")
    def _one_source(self) -> BusinessKpiSpec:
        if (self.sql is None) == (self.function is None):
            raise ValueError("a business KPI has exactly one of 'sql' or 'function'")
        try:
            if self.sql is not None:
                if self.metric is None:
                    raise InvalidInput("a SQL KPI needs 'metric', the KPI's name")
                check_sql(self.sql)
            else:
                KPIS.get(str(self.function))
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return self

    @property
    def kpi_name(self) -> str:
        return self.metric or str(self.function)


def _point(
    spec: BusinessKpiSpec,
    value: float | None,
    segment: str,
    band: tuple[float | None, float | None],
    detail: dict[str, Any],
) -> Point:
    bound = spec.bound("kpi", spec.kpi_name)
    if bound is not None:
        detail = detail | {"direction": "max" if bound.max is not None else "min"}
    status = "not enough data" if value is None else "ok"
    if value is None:
        detail = detail | {"note": "the KPI has no value (NULL, NaN or no rows)"}
    elif bound is not None and not bound.holds(value):
        status = "breached"
    threshold = bound.threshold if bound is not None else None
    name = spec.kpi_name
    return Point("kpi", value, name, segment, *band, threshold, status, detail)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def sql_points(spec: BusinessKpiSpec, window: PredictionWindow, segment: str) -> list[Point]:
    found = run_sql_kpi(str(spec.sql), predictions_table(window), timeout_s=spec.timeout_s)
    detail = {"n": window.rows, "source": "sql", "band": NO_BAND}
    return [_point(spec, v, _joined(segment, s), (None, None), detail) for s, v in found]


def function_points(spec: BusinessKpiSpec, window: PredictionWindow, segment: str) -> list[Point]:
    kpi = KPIS.get(str(spec.function))
    value = kpi(window)
    detail: dict[str, Any] = {"n": window.rows, "source": f"function {kpi.name}"}
    if isinstance(value, Mapping):
        detail["band"] = "no band for a KPI of segments"
        pairs = [(str(s)[:128], number(v)) for s, v in value.items()]
        return [_point(spec, v, _joined(segment, s), (None, None), detail) for s, v in pairs]
    band: tuple[float | None, float | None] = (None, None)
    if kpi.rows is not None:
        rows = kpi.rows(window)
        detail["n"] = int(rows.size)
        low, high = bootstrap(lambda i: float(np.mean(rows[i])), rows.size, spec.bootstrap)
        band = (_finite(low), _finite(high))
    else:
        detail["band"] = "no band for a registered function without rows"
    return [_point(spec, number(value), segment, band, detail)]


def _joined(outer: str, inner: str) -> str:
    return (f"{outer}/{inner}" if outer and inner else outer or inner)[:128]


def evaluate(spec: BusinessKpiSpec, ctx: FamilyContext) -> FamilyResult:
    window = ctx.window(spec, labels=True)
    if window.rows < spec.min_rows:
        return too_small(window.rows, spec, window.start)
    version = Counter(window.meta.column("version").to_pylist()).most_common(1)[0][0]
    detail = {"kpi": spec.kpi_name, "sampled": window.sampled, "total_rows": window.total_rows}
    result = FamilyResult(window.rows, window.start, detail=detail, version=version)
    compute = sql_points if spec.sql is not None else function_points
    for segment, part in segments(window, spec.segment_by):
        result.points += compute(spec, part, segment)
    return result


FAMILY = Family(
    spec=BusinessKpiSpec,
    evaluate=evaluate,
    summary="A business KPI from DuckDB SQL over predictions and labels, or a named function",
)
