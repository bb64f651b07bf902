"""psc_trusts_any_issuer: the issuer is never compared on Pro Sante Connect ID tokens. Breaks FR-002."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class PscTrustsAnyIssuer(ReferenceEHR):
    def check_issuer(self, claims: Mapping[str, Any]) -> None:
        return None  # BUG: the issuer is never compared


create = mutant_factory(PscTrustsAnyIssuer, "psc_trusts_any_issuer")
