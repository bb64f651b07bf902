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
