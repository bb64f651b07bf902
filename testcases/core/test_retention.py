"""EHDS-LOG-010: access information stays retrievable for at least three years after each access.

A run cannot wait three years: the check needs the SUT to offer a movable sandbox clock
(``Capability.CLOCK``: ``shift_clock`` and ``log_retention`` on the adapter). Without it the
requirement stays not-tested, with that reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conformance import auditlog
from conformance.adapter import Capability, Denied
from conformance.checks import inconclusive
from conformance.errors import AdapterError
from ehds_support.flow import AuditorView

THREE_YEARS = dt.timedelta(days=3 * 365 + 1)  # three calendar years, one of them a leap year
CLOCK_TOLERANCE = dt.timedelta(minutes=5)
CATEGORY = "patient-summary"


def clock_check(before: list[dict[str, Any]], after: list[dict[str, Any]], jump: dt.timedelta,
                elapsed: dt.timedelta) -> None:
    """The access made after ``shift_clock(jump)`` must be logged `jump` later than the accesses before it (plus
    the real time in between): a clock that did not move (or moved elsewhere) would make the retention check
    observe nothing, so it is an adapter error. Measured between the SUT's own log times, so a constant error of
    its clock (EHDS-LOG-005's business) does not count here."""
    times_before = [t for t in map(auditlog.recorded, before) if t is not None]
    times_after = [t for t in map(auditlog.recorded, auditlog.new_entries(before, after)) if t is not None]
    if not times_before or not times_after:
        inconclusive("the accesses around the clock move left no log entry with a time, so the moved clock "
                     "cannot be confirmed (see EHDS-LOG-001, EHDS-LOG-005)")
    moved = max(times_after) - max(times_before)
    if not jump - CLOCK_TOLERANCE <= moved <= jump + elapsed + CLOCK_TOLERANCE:
        raise AdapterError(f"shift_clock({jump}) did not move the SUT's clock by that much: the access made after "
                           f"it is logged {moved} after the accesses before it (hint: shift_clock must move the "
                           "clock every timestamp of the SUT comes from, the access log's included)")


@pytest.mark.requirement("EHDS-LOG-010")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_access_information_is_kept_three_years(sut, sut_description, accounts, new_patient, documents, evidence):
    """Procedure: reads the SUT's declared access-log retention (``log_retention``); a professional
    fetches a fresh patient's summary and the auditor reads the patient's log; the SUT's clock is moved
    forward by three years and a day minus one hour (``shift_clock``), the professional fetches the summary
    again, the auditor and the patient read the log again, and the clock is moved back. Observed: the
    declared retention is at least three years; the access made after the jump is logged the jump later than
    those before it (else the clock did not move and nothing was observed: an error of the adapter, not a
    pass); every
    entry read before the jump is still served after it, to the auditor and to the patient. Decides
    EHDS-LOG-010 because access records must stay retrievable for at least three years
    after each access. That the period can be configured is not observable through the contract."""
    if not sut_description.declares(Capability.CLOCK):
        inconclusive("the SUT offers no movable sandbox clock (capability clock: shift_clock, log_retention), "
                     "so three years of retention cannot be observed in a run")
    retention = sut.log_retention()
    evidence.note(f"declared access-log retention: {retention if retention is not None else 'without limit'}")
    assert retention is None or retention >= THREE_YEARS, (
        f"the access log is kept for {retention}, less than the three years Art 9 asks for")
    hp = sut.login(accounts.hp)
    patient = new_patient()
    receipt = hp.submit(documents.valid(CATEGORY, patient))
    hp.fetch(receipt.patient_id, CATEGORY)
    auditor = AuditorView(sut, accounts)
    before = auditor.entries(receipt.patient_id)
    if not before:
        inconclusive("the access left no log entry to keep (see EHDS-LOG-001)")
    jump = THREE_YEARS - dt.timedelta(hours=1)
    started = dt.datetime.now(dt.UTC)
    sut.shift_clock(jump)
    try:
        hp.fetch(receipt.patient_id, CATEGORY)  # an access at the moved clock, to see that it moved
        elapsed = dt.datetime.now(dt.UTC) - started
        after = auditor.entries(receipt.patient_id)
        try:
            own = sut.login(accounts.patient(patient.identifier)).access_log(receipt.patient_id)
        except Denied:
            own = None  # the patient's own access is EHDS-LOG-009's business
    finally:
        sut.shift_clock(-jump)
    clock_check(before, after, jump, elapsed)
    kept = {auditlog.entry_key(e) for e in after}
    lost = [e.get("id", "?") for e in before if auditlog.entry_key(e) not in kept]
    evidence.note(f"{len(before)} entries before the clock moved {jump}, {len(before) - len(lost)} kept")
    assert not lost, (f"{len(lost)} of {len(before)} access-log entries are gone {jump} after the access "
                      f"(first: {lost[:3]}); they must stay retrievable for three years")
    if own is not None:
        seen = {auditlog.entry_key(e) for e in own}
        gone = [e.get("id", "?") for e in before if auditlog.entry_key(e) not in seen]
        assert not gone, (f"the patient's own view of the log lost {len(gone)} entries {jump} after the access")
