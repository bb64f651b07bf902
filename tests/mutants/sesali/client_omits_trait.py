"""client_omits_trait: the patient search leaves out the last identity trait entered. Breaks FR-CLI-002."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.adapters.reference_client.client import ReferenceClient
from tests.mutants.sesali._client import client_mutant_factory


class ClientOmitsTrait(ReferenceClient):
    def identity_query(self, country: str, traits: Mapping[str, str]) -> dict[str, str]:
        return {str(k): str(v) for k, v in list(traits.items())[:-1]}  # BUG: one trait dropped


create = client_mutant_factory(ClientOmitsTrait, "client_omits_trait")
