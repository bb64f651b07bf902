"""psc_logs_subject: the log records the professional by the token's opaque subject, not the RPPS.
Breaks FR-002."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class PscLogsSubject(ReferenceEHR):
    def person_identifier(self, claims: Mapping[str, Any], userinfo: Mapping[str, Any]) -> str:
        return f"urn:psc:sub|{claims.get('sub', '')}"  # BUG: not the RPPS


create = mutant_factory(PscLogsSubject, "psc_logs_subject")
