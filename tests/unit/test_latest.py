"""The contract's one definition of "the latest document of a category" (conformance.adapter.latest):
the newest document date as an instant, the later received on a tie."""

from __future__ import annotations

import datetime as dt

import pytest

from conformance.adapter import document_time, latest


def _latest(*dates: str) -> int | None:
    found = latest(list(enumerate(dates)), lambda d: d[1])
    return None if found is None else found[0]


def test_the_newest_document_date_wins_whatever_the_order_received():
    assert _latest("2024-05-01T10:30:00+01:00", "2023-01-01T10:30:00+01:00") == 0  # a late, older document
    assert _latest("2023-01-01T10:30:00+01:00", "2024-05-01T10:30:00+01:00") == 1


def test_dates_compare_as_instants_not_as_text():
    # 10:00+02:00 is 08:00Z, before 09:00Z, although it sorts after it as text
    assert _latest("2025-03-01T10:00:00+02:00", "2025-03-01T09:00:00Z") == 1
    assert _latest("2025-03-01T09:00:00Z", "2025-03-01T10:00:00+02:00") == 0


def test_a_tie_goes_to_the_later_received():
    assert _latest("2025-03-01T10:00:00+01:00", "2025-03-01T09:00:00Z") == 1  # the same instant
    assert _latest("2025-03-01", "2025-03-01T00:00:00Z", "2025-03-01T00:00:00+00:00") == 2
    assert _latest("", "not a date") == 1  # unreadable dates tie as the oldest


def test_nothing_has_no_latest():
    assert latest([], lambda d: d) is None


@pytest.mark.parametrize("text, instant", [
    ("2025", dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
    ("2025-03", dt.datetime(2025, 3, 1, tzinfo=dt.UTC)),
    ("2025-03-04", dt.datetime(2025, 3, 4, tzinfo=dt.UTC)),
    ("2025-03-04T10:30:00", dt.datetime(2025, 3, 4, 10, 30, tzinfo=dt.UTC)),
    ("2025-03-04T10:30:00.5+01:00", dt.datetime(2025, 3, 4, 9, 30, 0, 500000, tzinfo=dt.UTC)),
    ("2025-03-04T10:30:00Z", dt.datetime(2025, 3, 4, 10, 30, tzinfo=dt.UTC)),
])
def test_document_time_reads_fhir_dates_and_date_times(text, instant):
    assert document_time(text) == instant


def test_unreadable_dates_are_older_than_any_readable_one():
    assert document_time("") < document_time("0001-01-02")
    assert document_time("yesterday") == document_time("")
