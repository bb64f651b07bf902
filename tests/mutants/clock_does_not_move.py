"""clock_does_not_move: the adapter declares the sandbox clock but ``shift_clock`` changes nothing.

Without a moving clock the retention check would read the same fresh log twice and observe nothing; it must end
in an *error* verdict for EHDS-LOG-010 (the adapter broke its contract), never a pass. Found by the mutation survey
(tests/mutants/survey.py: dropping the reference adapter's ``shift_clock`` call survived)."""

from __future__ import annotations

import datetime as dt

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class ClockDoesNotMove(ReferenceEHR):
    def shift_clock(self, delta: dt.timedelta) -> None:
        return None  # BUG: accepted and ignored


create = mutant_factory(ClockDoesNotMove, "clock_does_not_move")
