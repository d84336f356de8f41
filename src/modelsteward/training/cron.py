"""Cron expressions for scheduled retraining: five fields, evaluated in UTC.

``minute hour day-of-month month day-of-week`` with ``*``, lists (``1,15``), ranges
(``1-5``) and steps (``*/15``, ``0-30/10``); day-of-week 0-6 from Sunday (7 is Sunday
too). As in cron, when both day fields are restricted a day matching either is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from modelsteward.errors import InvalidInput

FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
SEARCH_MINUTES = 366 * 24 * 60 * 5


def _values(text: str, name: str, low: int, high: int) -> frozenset[int]:
    found: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise InvalidInput(f"schedule: bad step {part!r} in the {name} field")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            if not (a.isdigit() and b.isdigit()):
                raise InvalidInput(f"schedule: bad range {part!r} in the {name} field")
            start, end = int(a), int(b)
        elif body.isdigit():
            start = end = int(body)
            if step is not None:
                end = high
        else:
            raise InvalidInput(f"schedule: {part!r} is not a number in the {name} field")
        if not low <= start <= end <= high:
            raise InvalidInput(f"schedule: {part!r} is outside {low}-{high} in the {name} field")
        found.update(range(start, end + 1, step or 1))
    return frozenset(found)


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def _day_matches(self, when: datetime) -> bool:
        day = when.day in self.days
        weekday = (when.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day and weekday
        return day or weekday

    def next_after(self, when: datetime) -> datetime:
        """The first due minute strictly after ``when`` (timezone-aware, UTC)."""
        moment = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(SEARCH_MINUTES):
            if moment.month not in self.months or not self._day_matches(moment):
                moment = moment.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if moment.hour not in self.hours:
                moment = moment.replace(minute=0) + timedelta(hours=1)
                continue
            if moment.minute in self.minutes:
                return moment
            moment += timedelta(minutes=1)
        raise InvalidInput(f"schedule: {self.expression!r} never falls due")


def parse_cron(expression: str) -> Cron:
    parts = expression.split()
    if len(parts) != 5:
        raise InvalidInput(
            f"schedule: {expression[:80]!r} must have five fields (minute hour day month weekday)"
        )
    sets = [_values(p, n, lo, hi) for p, (n, lo, hi) in zip(parts, FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])
    minutes, hours, days, months = sets[:4]
    return Cron(
        expression, minutes, hours, days, months, weekdays, parts[2] == "*", parts[4] == "*"
    )
