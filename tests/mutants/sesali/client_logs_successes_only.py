"""client_logs_successes_only: failed attempts leave no entry in the client's log. Breaks FR-CLI-004."""

from __future__ import annotations

from conformance.adapters.reference_client.client import PscLogin, ReferenceClient
from tests.mutants.sesali._client import client_mutant_factory


class ClientLogsSuccessesOnly(ReferenceClient):
    def log_outcome(self, login: PscLogin, country: str, outcome: str, description: str) -> None:
        if outcome == "0":  # BUG: refusals and failures are not logged
            super().log_outcome(login, country, outcome, description)


create = client_mutant_factory(ClientLogsSuccessesOnly, "client_logs_successes_only")
