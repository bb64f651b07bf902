"""hangs_on_fetch: fetch never returns. The checks that fetch must end in an *error* verdict
(adapter timeout), not a fail, and the run must go on."""

from __future__ import annotations

import threading
from typing import Any

from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class HangsOnFetch(ReferenceEHR):
    def fetch(self, principal: Principal, patient_id: str, category: str | None = None, *,
              document_id: str | None = None, emergency_purpose: str | None = None) -> dict[str, Any]:
        threading.Event().wait()  # BUG: waits for an event nobody sets
        raise RuntimeError("unreachable")


create = mutant_factory(HangsOnFetch, "hangs_on_fetch")
