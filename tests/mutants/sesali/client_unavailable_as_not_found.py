"""client_unavailable_as_not_found: "country not available" is reported as "patient not found".
Breaks FR-CLI-004."""

from __future__ import annotations

from typing import Any

from conformance.adapter import AdapterAnswer, NotFound
from conformance.adapters.reference_client.client import ReferenceClient
from tests.mutants.sesali._client import client_mutant_factory


class ClientUnavailableAsNotFound(ReferenceClient):
    def answer(self, status: int, body: Any, step: str) -> AdapterAnswer | None:
        found = super().answer(status, body, step)
        return NotFound(found.reason) if found is not None and status == 404 else found  # BUG: conflated


create = client_mutant_factory(ClientUnavailableAsNotFound, "client_unavailable_as_not_found")
