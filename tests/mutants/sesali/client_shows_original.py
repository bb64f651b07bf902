"""client_shows_original: the client never uses the translation catalogue. Breaks FR-CLI-003."""

from __future__ import annotations

from conformance.adapters.reference_client.client import ReferenceClient
from tests.mutants.sesali._client import client_mutant_factory


class ClientShowsOriginal(ReferenceClient):
    def translate(self, system: str, code: str, language: str) -> str | None:
        return None  # BUG: shown in the sender's language


create = client_mutant_factory(ClientShowsOriginal, "client_shows_original")
