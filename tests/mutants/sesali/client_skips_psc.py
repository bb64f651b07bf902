"""client_skips_psc: the client calls the contact point without the professional's PSC token.
Breaks FR-CLI-001."""

from __future__ import annotations

from conformance.adapters.reference_client.client import PscLogin, ReferenceClient
from tests.mutants.sesali._client import client_mutant_factory


class ClientSkipsPsc(ReferenceClient):
    def bearer(self, login: PscLogin) -> dict[str, str]:
        return {}  # BUG: no Authorization header


create = client_mutant_factory(ClientSkipsPsc, "client_skips_psc")
