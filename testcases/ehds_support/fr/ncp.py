"""A mock national contact point (Sesali side of MyHealth@EU) on loopback, for the client profile.

A real HTTP server on 127.0.0.1 that a *client* SUT (the professional's software, "logiciel métier")
calls, protected by the mock Pro Sante Connect: every call carries ``Authorization: Bearer <PSC access
token>``. The API (FHIR R4 JSON, harness-defined: no public Sesali API was verified) under
``/ncp/fhir/<country>`` (ISO 3166-1 alpha-2):

``GET  Patient?<trait>=<value>&...``
    Cross-border identification by the country's identity traits (all required, exact match):
    a searchset Bundle with 0 or 1 Patient.
``POST Consent``
    The patient's consent collected by the professional (FHIR Consent: ``status`` active or rejected,
    ``patient.reference`` ``Patient/<id>``, ``provision.purpose``, ``dateTime``, ``performer``): 201.
``GET  Patient/<id>/$summary`` (``_format=xml`` for the eHDSI CDA)
    The patient summary, built from the harness's generated samples: 403 OperationOutcome
    ``no-consent`` unless an active Consent of the patient was posted; 404 unknown patient.

A country that is not connected answers 404 with OperationOutcome issue code ``not-supported``; a
call without a valid PSC token answers 401. Everything received is recorded (:attr:`MockNcp.calls`)
without the token itself: whom it was issued to (``authenticated_as``) and ``auth`` valid, invalid or missing.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ehds_support.fr.psc import MockPsc

BASE = "/ncp/fhir"


@dataclass
class ForeignPatient:
    country: str
    traits: dict[str, str]
    summary: dict[str, Any]
    cda: bytes = b""
    id: str = field(default_factory=lambda: "fp-" + uuid.uuid4().hex[:16])


def outcome(code: str, text: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


class MockNcp:
    """The mock NCP. ``countries``: the connected ones; ``traits``: ``{country: {trait: system}}``."""

    def __init__(self, psc: MockPsc, countries: dict[str, dict[str, str]], *, port: int = 0) -> None:
        self.psc = psc
        self.countries = {c.upper(): dict(t) for c, t in countries.items()}
        self.patients: dict[str, ForeignPatient] = {}
        self.consents: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{BASE}"

    def start(self) -> MockNcp:
        self._thread = threading.Thread(target=self._server.serve_forever, name="mock-ncp", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_patient(self, country: str, traits: dict[str, str], summary: dict[str, Any], cda: bytes = b"") -> str:
        patient = ForeignPatient(country.upper(), dict(traits), summary, cda)
        with self._lock:
            self.patients[patient.id] = patient
        return patient.id

    def calls_about(self, marker: str) -> list[dict[str, Any]]:
        """The recorded calls whose traits, patient or consent mention `marker` (one check's patient)."""
        return [c for c in self.calls if marker in json.dumps(c)]

    # ---- the API ---------------------------------------------------------------------------------

    def _find(self, country: str, query: dict[str, str]) -> list[ForeignPatient]:
        wanted = self.countries[country]
        if set(wanted) - {k for k, v in query.items() if v}:
            return []
        return [p for p in self.patients.values()
                if p.country == country and all(p.traits.get(t) == query.get(t) for t in wanted)]

    def _has_consent(self, patient_id: str) -> bool:
        return any(c.get("status") == "active" and c.get("patient") == f"Patient/{patient_id}"
                   for c in self.consents.values())

    def handle(self, method: str, path: str, query: dict[str, str], body: Any, token: str) -> tuple[int, Any]:
        """Answer one call and record it with the status it got."""
        call: dict[str, Any] = {}
        status, payload = self._answer(method, path, query, body, token, call)
        call["status"] = status
        return status, payload

    def _answer(self, method: str, path: str, query: dict[str, str], body: Any, token: str,
                call: dict[str, Any]) -> tuple[int, Any]:
        professional = self.psc.professional_for(token) if token else None
        call.update({"method": method, "path": path, "query": query,
                     "authenticated_as": professional.national_id if professional else None,
                     "auth": "valid" if professional else ("invalid" if token else "missing")})
        parts = path[len(BASE):].strip("/").split("/") if path.startswith(BASE) else []
        country = parts[0].upper() if parts else ""
        call["country"] = country
        if method == "POST" and isinstance(body, dict):
            call["body"] = {k: body.get(k) for k in ("resourceType", "status", "patient", "dateTime", "performer",
                                                     "provision", "scope", "category")}
        with self._lock:
            self.calls.append(call)
        if professional is None:
            return 401, outcome("login", "a Pro Sante Connect access token is required")
        if not parts or country not in self.countries:
            return 404, outcome("not-supported", f"country {country or '(none)'} is not available through the NCP")
        rest = parts[1:]
        if method == "GET" and rest == ["Patient"]:
            found = self._find(country, query)
            return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                         "entry": [{"resource": {"resourceType": "Patient", "id": p.id}} for p in found]}
        if method == "POST" and rest == ["Consent"]:
            if not isinstance(body, dict) or body.get("resourceType") != "Consent":
                return 400, outcome("invalid", "expected a FHIR Consent")
            consent_id = "c-" + uuid.uuid4().hex[:16]
            with self._lock:
                self.consents[consent_id] = {"status": body.get("status"),
                                             "patient": (body.get("patient") or {}).get("reference", "")}
            return 201, {**body, "id": consent_id}
        if method == "GET" and len(rest) == 3 and rest[0] == "Patient" and rest[2] == "$summary":
            patient = self.patients.get(rest[1])
            if patient is None or patient.country != country:
                return 404, outcome("not-found", "no such patient")
            if not self._has_consent(patient.id):
                return 403, outcome("forbidden", "no-consent: the patient's consent was not received")
            if query.get("_format") == "xml" and patient.cda:
                return 200, patient.cda
            return 200, patient.summary
        return 404, outcome("not-found", f"no such operation {method} {path}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body: Any = None
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    try:
                        body = json.loads(self.rfile.read(length))
                    except ValueError:
                        body = None
                auth = self.headers.get("Authorization", "")
                token = auth[7:] if auth.lower().startswith("bearer ") else ""
                status, payload = mock.handle(method, parts.path, query, body, token)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml" if isinstance(payload, bytes)
                                 else "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

        return Handler
