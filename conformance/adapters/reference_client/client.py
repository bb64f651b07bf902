"""The reference client's rules: sign the professional in with Pro Sante Connect, identify the foreign
patient by the country's traits, send the patient's consent, fetch the summary from the national
contact point, show it in French, and log every outcome.

The contact point's API is the one the harness's mock serves (FHIR R4 JSON under ``<ncp>/<country>``:
``GET Patient?<traits>``, ``POST Consent``, ``GET Patient/<id>/$summary``); no public Sesali API was
verified, so a vendor maps these steps onto the real one. Pro Sante Connect sign-in uses the test
stand-in of the harness's mock (a password grant at the token endpoint, standing for the CPS card /
e-CPS interaction); the access token is then the bearer of every call.

Each rule is a small overridable method (``bearer``, ``identity_query``, ``send_consent``,
``consent_resource``, ``answer``, ``translate``, ``log_outcome``) so that a broken client differs in exactly one.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import conformance
from conformance.adapter import (
    Actor,
    ActorKind,
    AdapterAnswer,
    Capability,
    Denied,
    DisplayedItem,
    DisplayedSummary,
    NotFound,
    NotSupported,
    SutDescription,
    TestAccounts,
)
from conformance.adapters.reference.display import TranslatedDisplay, coded_items

PRODUCT = "ehds-conformance reference client (logiciel métier)"
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
CAPABILITIES = frozenset({Capability.FOREIGN_SUMMARY_CLIENT, Capability.TRANSLATED_DISPLAY})


@dataclass(frozen=True)
class PscLogin:
    """A professional signed in through PSC (tokens stay in memory, never logged)."""

    professional: str  # IDNPS system|value
    name: str
    access_token: str
    id_token: str


def _http() -> Any:
    import httpx

    return httpx.Client(trust_env=False, timeout=10.0)


class ClientSession:
    """One professional's session in the client."""

    def __init__(self, client: ReferenceClient, actor: Actor, login: PscLogin | None) -> None:
        self.actor = actor
        self._client = client
        self._login = login

    def open_foreign_summary(self, country: str, traits: Mapping[str, str], *,
                             consent: bool = True) -> DisplayedSummary:
        if self._login is None:
            raise Denied("sign in with Pro Sante Connect before opening a foreign patient summary")
        return self._client.open_foreign_summary(self._login, country, traits, consent=consent)

    def client_log(self) -> list[dict[str, Any]]:
        return self._client.client_log()


class ReferenceClient(TranslatedDisplay):
    """The adapter *and* the client (it is embedded: the harness drives it in process)."""

    def __init__(self, *, client_id: str = "ehds-conformance-sut", product: str | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        self.client_id = client_id
        self.ncp_url = ""
        self.issuer = ""
        self._log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._description = SutDescription(product=product or PRODUCT, version=conformance.__version__,
                                           vendor="ehds-conformance project", capabilities=CAPABILITIES,
                                           consumes=frozenset({"patient-summary"}),
                                           extra=dict(extra or {}))

    # ---- the adapter side ----------------------------------------------------------------------

    def describe(self) -> SutDescription:
        return self._description

    def test_accounts(self) -> TestAccounts:
        """A client has no accounts of its own: professionals sign in through PSC (the harness hands
        the mock PSC's test logins). These placeholders carry no credentials."""
        hp = Actor(ActorKind.HEALTH_PROFESSIONAL, name="(signs in through Pro Sante Connect)")
        return TestAccounts(hp=hp, hp_other=hp, auditor=Actor(ActorKind.AUDITOR))

    def use_contact_point(self, base_url: str, identity_provider: str) -> None:
        """Call this national contact point; sign professionals in with this OIDC issuer."""
        self.ncp_url, self.issuer = base_url.rstrip("/"), identity_provider.rstrip("/")

    def close(self) -> None:
        return None

    def login(self, actor: Actor) -> ClientSession:
        """Open the software for a professional and sign them in with Pro Sante Connect (the mock's stand-in
        password grant) when their PSC login is given; without it the session can call nothing."""
        creds = actor.credentials or {}
        if actor.kind is ActorKind.ANONYMOUS:
            raise Denied("the software needs a user (a professional, or the auditor reading its log)")
        if actor.kind is not ActorKind.HEALTH_PROFESSIONAL or not creds.get("psc_username"):  # the software is open, but nobody signed in to PSC yet
            return ClientSession(self, actor, None)
        if not self.issuer:
            raise Denied("no Pro Sante Connect issuer configured")
        with _http() as http:
            meta = http.get(self.issuer + "/.well-known/openid-configuration").json()
            response = http.post(meta["token_endpoint"], data={
                "grant_type": "password", "client_id": self.client_id, "scope": "openid scope_all",
                "username": creds["psc_username"], "password": creds.get("psc_password", "")})
            if response.status_code != 200:
                raise Denied(f"Pro Sante Connect refused the sign-in (HTTP {response.status_code})")
            tokens = response.json()
            info = http.get(meta["userinfo_endpoint"],
                            headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
        login = PscLogin(f"{IDNPS_SYSTEM}|{info.get('SubjectNameID', '')}",
                         f"{info.get('given_name', '')} {info.get('family_name', '')}".strip(),
                         tokens["access_token"], tokens.get("id_token", ""))
        return ClientSession(self, actor, login)

    # ---- the rules ---------------------------------------------------------------------------------

    def bearer(self, login: PscLogin) -> dict[str, str]:
        """Every call to the contact point carries the professional's PSC access token."""
        return {"Authorization": f"Bearer {login.access_token}"}

    def identity_query(self, country: str, traits: Mapping[str, str]) -> dict[str, str]:
        """The patient search sends every identity trait the professional entered, as given."""
        return {str(k): str(v) for k, v in traits.items()}

    def consent_resource(self, login: PscLogin, patient_id: str) -> dict[str, Any]:
        """The patient's consent, collected by the professional, as a FHIR Consent."""
        return {
            "resourceType": "Consent", "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                  "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0",
                                      "display": "Patient Consent"}]}],
            "patient": {"reference": f"Patient/{patient_id}"},
            "dateTime": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "performer": [{"identifier": {"system": login.professional.split("|")[0],
                                          "value": login.professional.split("|")[1]}}],
            "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                       "code": "OPTIN"}]},
            "provision": {"type": "permit",
                          "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                       "code": "TREAT"}]},
        }

    def send_consent(self, http: Any, base: str, headers: Mapping[str, str], login: PscLogin, patient_id: str) -> None:
        """Post the patient's consent to the contact point before asking for their data."""
        response = http.post(base + "/Consent", json=self.consent_resource(login, patient_id), headers=dict(headers))
        if (problem := self.answer(response.status_code, response.json(), "consent")) is not None:
            raise problem

    def answer(self, status: int, body: Any, step: str) -> AdapterAnswer | None:
        """The contract's answer for a contact point response (None: success)."""
        if status < 300:
            return None
        issue = ((body or {}).get("issue") or [{}])[0] if isinstance(body, dict) else {}
        text = issue.get("diagnostics") or f"HTTP {status}"
        if status in (401, 403):
            return Denied(f"{step}: {text}")
        if status == 404 and issue.get("code") == "not-supported":
            return NotSupported(f"{step}: {text}")
        if status == 404:
            return NotFound(f"{step}: {text}")
        return AdapterAnswer(f"{step}: {text}")

    def log_outcome(self, login: PscLogin, country: str, outcome: str, description: str) -> None:
        """The client's own log: one AuditEvent per attempt (outcome 0 success, 4 refused/not found)."""
        system, value = login.professional.split("|", 1)
        event = {
            "resourceType": "AuditEvent", "id": str(uuid.uuid4()),
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
            "action": "R", "recorded": dt.datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "outcome": outcome, "outcomeDesc": description,
            "agent": [{"who": {"identifier": {"system": system, "value": value}, "display": login.name},
                       "requestor": True}],
            "source": {"observer": {"display": PRODUCT}},
            "entity": [{"what": {"display": f"patient summary from {country}"},
                        "detail": [{"type": "country", "valueString": country}]}],
        }
        with self._lock:
            self._log.append(event)

    def client_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    # ---- the flow -------------------------------------------------------------------------------------

    def open_foreign_summary(self, login: PscLogin, country: str, traits: Mapping[str, str], *,
                             consent: bool = True) -> DisplayedSummary:
        """Identify the patient, send their consent, fetch and show the summary; every outcome logged."""
        try:
            summary = self._obtain(login, country.upper(), traits, consent)
        except AdapterAnswer as answer:
            self.log_outcome(login, country.upper(), "4", f"{type(answer).__name__}: {answer.reason}")
            raise
        shown = self.render(summary)
        self.log_outcome(login, country.upper(), "0", f"patient summary shown ({len(shown.items)} coded items)")
        return shown

    def _obtain(self, login: PscLogin, country: str, traits: Mapping[str, str], consent: bool) -> dict[str, Any]:
        if not self.ncp_url:
            raise NotSupported("no national contact point configured")
        base, headers = f"{self.ncp_url}/{country}", self.bearer(login)
        with _http() as http:
            response = http.get(base + "/Patient", params=self.identity_query(country, traits), headers=headers)
            body = response.json()
            if (problem := self.answer(response.status_code, body, "patient identification")) is not None:
                raise problem
            found = [e["resource"]["id"] for e in body.get("entry") or []]
            if len(found) != 1:
                raise NotFound(f"patient identification: {len(found)} patients of {country} match these traits")
            patient_id = found[0]
            if not consent:
                raise Denied("the patient did not consent to the access: the summary was not requested")
            self.send_consent(http, base, headers, login, patient_id)
            response = http.get(f"{base}/Patient/{patient_id}/$summary", headers=headers)
            body = response.json()
            if (problem := self.answer(response.status_code, body, "patient summary")) is not None:
                raise problem
            return dict(body)

    def render(self, summary: Mapping[str, Any], language: str = "fr-FR") -> DisplayedSummary:
        """What the professional sees: each coded item in French from the loaded catalogue."""
        items: list[DisplayedItem] = []
        for system, code, original in coded_items(summary):
            item = self.displayed_item(system, code, original, language)
            if item is not None:
                items.append(item)
        return DisplayedSummary(language, tuple(items))
