"""client_skips_consent: the client never sends the patient's consent. Breaks FR-CLI-002."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference_client.client import PscLogin, ReferenceClient
from tests.mutants.sesali._client import client_mutant_factory


class ClientSkipsConsent(ReferenceClient):
    def send_consent(self, http: Any, base: str, headers: Mapping[str, str], login: PscLogin, patient_id: str) -> None:
        return None  # BUG: no Consent posted


create = client_mutant_factory(ClientSkipsConsent, "client_skips_consent")
