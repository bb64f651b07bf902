"""Compare FHIR date/dateTime/instant strings the way FHIRPath does (None when precision makes it unknown)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _parse(value: str) -> tuple[datetime, int] | None:
    """(UTC-normalised datetime, precision) where precision = number of components given."""
    try:
        if len(value) == 4:
            return datetime(int(value), 1, 1, tzinfo=UTC), 1
        if len(value) == 7:
            return datetime(int(value[:4]), int(value[5:7]), 1, tzinfo=UTC), 2
        if len(value) == 10:
            return datetime(int(value[:4]), int(value[5:7]), int(value[8:10]), tzinfo=UTC), 3
        v = value.replace("Z", "+00:00")
        dt = datetime.fromisoformat(v)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC), 6
    except ValueError:
        return None


def compare_datetimes(a: str, b: str) -> int | None:
    pa, pb = _parse(a), _parse(b)
    if pa is None or pb is None:
        return None
    (da, prec_a), (db, prec_b) = pa, pb
    if prec_a == prec_b:
        return (da > db) - (da < db)
    # different precision: compare on the common precision only when it decides
    prec = min(prec_a, prec_b)
    if prec >= 3:
        # a date against a dateTime: compare by day with a day's margin for time zones
        if da + timedelta(days=1) < db:
            return -1
        if db + timedelta(days=1) < da:
            return 1
        return None
    ka = (da.year, da.month if prec >= 2 else 0)
    kb = (db.year, db.month if prec >= 2 else 0)
    if ka == kb:
        return None
    return -1 if ka < kb else 1


#: UCUM time units a Duration bound may use, with their length (years and months move the calendar instead)
_FIXED_UNITS = {"wk": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "min": timedelta(minutes=1),
                "s": timedelta(seconds=1), "ms": timedelta(milliseconds=1)}


def _shift(now: datetime, amount: float, unit: str) -> datetime | None:
    if unit in _FIXED_UNITS:
        return now + _FIXED_UNITS[unit] * amount
    if unit in ("a", "mo") and float(amount).is_integer():
        months = int(amount) * (12 if unit == "a" else 1)
        y, m = divmod(now.month - 1 + months, 12)
        year, month = now.year + y, m + 1
        day = min(now.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
                            31, 31, 30, 31, 30, 31][month - 1])
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            return None
    return None


def duration_bound_problem(value: str, bound: dict, op: str, now: datetime | None = None) -> str | None:
    """A date/dateTime/instant against a minValueDuration / maxValueDuration: the bound is relative to now
    (min: now minus the duration, max: now plus it), as the reference validator reads these bounds. The
    problem, or None when the value is within the bound or the comparison cannot be decided."""
    amount, unit = bound.get("value"), bound.get("code") or bound.get("unit")
    if not isinstance(amount, (int, float)) or isinstance(amount, bool) or not isinstance(unit, str):
        return None
    now = now or datetime.now(UTC)
    limit = _shift(now, -amount if op == "min" else amount, unit)
    if limit is None:
        return None
    c = compare_datetimes(value, limit.isoformat())
    if c is None or (c >= 0 if op == "min" else c <= 0):
        return None
    word = "earlier than the minimum" if op == "min" else "later than the maximum"
    return (f"The value {value!r} is {word} allowed by the profile ({amount} {unit} "
            f"{'before' if op == 'min' else 'after'} now: {limit.date().isoformat()})")
