"""The reference EHR dressed as a SUT that leaks secrets into what the harness records.

Its description carries a client secret, and every check's HTTP exchange log
(`drain_exchanges`, read by the plugin into http evidence) carries a bearer token,
a cookie and a token in a URL: the report must mask all of them.
Used by tests/report/test_real_run.py as ``tests.report.leaky_adapter:create``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference import create as create_reference

CLIENT_SECRET = "leaky-client-secret-4711"
BEARER = "leaky-bearer-token-0815"
COOKIE = "leaky-session-cookie-2024"
PASSWORD = "Leaky-Pa55word-99"


def create(config: Mapping[str, Any] | None = None) -> Any:
    adapter = create_reference(
        {"passwords": {"hp": PASSWORD}, **dict(config or {})},
        product="leaky EHR",
        extra={
            "client_secret": CLIENT_SECRET,
            "token_endpoint": f"https://idp.example/token?client_secret={CLIENT_SECRET}",
        },
    )

    def drain_exchanges() -> list[dict[str, Any]]:
        return [
            {
                "method": "GET",
                "url": f"https://ehr.example/fhir/Patient?access_token={BEARER}",
                "status": 200,
                "request_headers": {"Authorization": f"Bearer {BEARER}", "Cookie": f"sid={COOKIE}"},
                "response_headers": [
                    ["Set-Cookie", f"sid={COOKIE}; HttpOnly"],
                    ["Content-Type", "application/fhir+json"],
                ],
                "body_sha256": "0" * 64,
            }
        ]

    adapter.drain_exchanges = drain_exchanges
    return adapter
