"""crashes_on_submit: submit raises an unexpected exception. The checks that submit must end
in an *error* verdict, not a fail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapter import Receipt
from conformance.adapters.reference.service import Principal, ReferenceEHR
from tests.mutants._factory import mutant_factory


class CrashesOnSubmit(ReferenceEHR):
    def submit(self, principal: Principal, document: Mapping[str, Any] | bytes) -> Receipt:
        raise RuntimeError("simulated crash: database driver gone")  # BUG


create = mutant_factory(CrashesOnSubmit, "crashes_on_submit")
