"""The ``fhir`` adapter: the contract mapped onto standard FHIR R4 interactions.

Which interaction serves each contract method is chosen per SUT in the SUT file's
``[interactions]`` table (standard defaults; see the README table "How the contract
maps onto FHIR REST"). Answers: 401/403 Denied, 404/410 NotFound,
400/409/412/413/415/422 Rejected, 405/501 NotSupported; anything else is an
AdapterError naming the request (an *error* verdict).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import orjson

from conformance import fhirmap
from conformance.adapter import (
    PRIORITY_CATEGORIES,
    Actor,
    ActorKind,
    AdapterAnswer,
    Capability,
    Consent,
    ConsentRecord,
    Denied,
    DocumentInfo,
    NotFound,
    NotSupported,
    Receipt,
    Rejected,
    Restriction,
    SutDescription,
    TestAccounts,
    latest,
)
from conformance.adapters.fhir_rest import mapping
from conformance.adapters.fhir_rest.auth import OAuthClient, Token
from conformance.adapters.fhir_rest.config import LoginSettings, Settings, origin_of
from conformance.adapters.fhir_rest.transport import EMERGENCY_HEADER, ExchangeLog, Http, Reply, answer
from conformance.errors import AdapterError, UsageError

FHIR_JSON = "application/fhir+json"
CDA_XML = "application/cda+xml"


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class FhirSession:
    """One logged-in actor (or an anonymous caller without a token)."""

    def __init__(self, adapter: FhirRestAdapter, actor: Actor, login: LoginSettings | None, token: Token | None) -> None:
        self.actor = actor
        self._adapter = adapter
        self._login = login
        self._token = token
        self._lock = threading.Lock()

    @property
    def _interactions(self) -> dict[str, str]:
        return self._adapter.settings.interactions

    # ---- plumbing ------------------------------------------------------------------------

    def _bearer(self) -> str | None:
        with self._lock:
            if self._token is None or self._login is None:
                return None
            if self._token.expires_at - time.time() < 30 and self._login.login != "bearer":
                self._token = self._adapter.token_for(self._login, self.actor)  # renew a token about to expire
            return self._token.access_token

    def _send(self, method: str, path: str, what: str, *, token: Token | None = None,
              **kwargs: Any) -> tuple[Any, Reply]:
        headers = {"Accept": FHIR_JSON, **kwargs.pop("headers", {})}
        http = self._adapter.http
        if token is not None:  # a dedicated token (the data holder's export): no renewal dance
            reply = http.send(method, path, token=token.access_token, headers=headers, label=what, **kwargs)
            return answer(reply, what), reply
        reply = http.send(method, path, token=self._bearer(), headers=headers, label=what, **kwargs)
        if reply.status_code == 401 and self._token is not None and self._login is not None \
                and self._login.login != "bearer":
            with self._lock:  # the server may have restarted or revoked it: log in again once
                self._token = self._adapter.token_for(self._login, self.actor)
            reply = http.send(method, path, token=self._bearer(), headers=headers, label=f"{what} (new token)",
                              **kwargs)
        return answer(reply, what), reply

    @staticmethod
    def _emergency(purpose: str | None) -> dict[str, str]:
        return {} if purpose is None else {EMERGENCY_HEADER: _quote(purpose)}

    def _search(self, resource_type: str, params: list[tuple[str, str]], headers: Mapping[str, str] | None = None,
                *, start: str | None = None, token: Token | None = None) -> list[dict[str, Any]]:
        """Every `resource_type` entry of a search, page after page, within [limits] max_pages/max_entries."""
        limits = self._adapter.settings.limits
        found: list[dict[str, Any]] = []
        path: str | None = start or resource_type
        query: Any = params
        for page in range(limits.max_pages):
            if path is None:
                return found
            if page and origin_of(self._adapter.http.url(path)) != self._adapter.http.origin:
                raise AdapterError(f"{resource_type} search: the next page link points to {origin_of(path)}, "
                                   f"outside the SUT's origin {self._adapter.http.origin}; not followed")
            bundle, reply = self._send("GET", path, f"{resource_type} search", params=query,
                                       headers=dict(headers or {}), token=token)
            found += mapping.search_entries(bundle, resource_type, reply.line)
            if len(found) > limits.max_entries:
                raise AdapterError(f"{resource_type} search: more than {limits.max_entries} entries after "
                                   f"{page + 1} pages (last {reply.line}); refused (raise [limits] max_entries if "
                                   "this is legitimate)")
            path, query = mapping.next_link(bundle), None
        if path is None:
            return found
        raise AdapterError(f"{resource_type} search: still a next page after {limits.max_pages} pages; refused "
                           "(raise [limits] max_pages if this is legitimate)")

    # ---- the contract ----------------------------------------------------------------------

    def submit(self, document: Mapping[str, Any] | bytes) -> Receipt:
        if isinstance(document, (bytes, bytearray)):
            data = bytes(document)
            if data.lstrip()[:1] in (b"{", b"["):
                try:
                    document = orjson.loads(data)
                except orjson.JSONDecodeError:
                    return self._create("Bundle", data, FHIR_JSON, None)
            else:
                return self._submit_cda(data)
        doc = dict(document)  # type: ignore[arg-type]
        mode = self._interactions["submit"]
        if mode == "create":
            return self._create("Bundle", orjson.dumps(doc), FHIR_JSON, doc)
        identifiers = fhirmap.document_patient_identifiers(doc)
        if not identifiers:
            raise Rejected("the document names no patient identifier (Composition.subject -> Patient.identifier); "
                           "a transaction needs one to find or create the patient")
        bundle = (mapping.transaction(doc, identifiers) if mode == "transaction"
                  else mapping.provide_document_bundle(doc, identifiers, FHIR_JSON))
        return self._transaction(bundle, mode)

    def _submit_cda(self, data: bytes) -> Receipt:
        if self._interactions["submit"] == "mhd":
            raise NotSupported("submit = \"mhd\" files FHIR documents; a CDA document needs a patient identifier "
                               "the harness does not read here; use submit = \"create\" (POST Binary)")
        return self._create("Binary", data, CDA_XML, None)

    def _submit_send(self, path: str, what: str, content: bytes, media: str) -> tuple[Any, Reply]:
        """POST for a submit; 404/405/501 mean the route is missing, not that the document was refused."""
        try:
            return self._send("POST", path, what, content=content, headers={"Content-Type": media})
        except (NotFound, NotSupported) as exc:
            raise AdapterError(f"{exc.reason}: the submit route is missing on this server; set [interactions] "
                               f"submit (now {self._interactions['submit']!r}) to the interaction it offers "
                               "(create, transaction, mhd)") from None

    def _create(self, path: str, content: bytes, media: str, document: dict[str, Any] | None) -> Receipt:
        """FHIR create: 201 + Location, 200/201 with the resource or an OperationOutcome."""
        body, reply = self._submit_send(path, "submit", content, media)
        kind, doc_id, resource = mapping.created(body, reply.headers.get("location", ""))
        if not doc_id:
            raise AdapterError(f"submit: {reply.line} answered HTTP {reply.status_code} but neither its body nor a "
                               "Location header names what was created; a FHIR create answers 201 with "
                               "Location: [base]/<Type>/<id>")
        patient_id = fhirmap.ref_id((resource or {}).get("subject"), "Patient") if resource else ""
        if not patient_id:
            patient_id = self._patient_of(document, reply)
        return Receipt(document_id=doc_id, patient_id=patient_id)

    def _patient_of(self, document: dict[str, Any] | None, reply: Reply) -> str:
        """The server's id of the document's patient, by Patient?identifier= (a create names none)."""
        identifiers = fhirmap.document_patient_identifiers(document) if document else []
        for identifier in identifiers:
            try:
                return self.find_patient(identifier)
            except NotFound:
                continue
        raise AdapterError(f"submit: {reply.line} answered HTTP {reply.status_code} (stored), but the server holds "
                           f"no Patient with the document's identifier ({', '.join(identifiers) or 'none'}): a plain "
                           "create does not file the patient; set [interactions] submit = \"transaction\" or "
                           "\"mhd\" so the patient is created with the document")

    def _transaction(self, bundle: dict[str, Any], mode: str) -> Receipt:
        body, reply = self._submit_send("", f"submit ({mode})", orjson.dumps(bundle), FHIR_JSON)
        locations = mapping.transaction_locations(body, reply.line)
        reference = 2  # index of the DocumentReference in both bundle shapes
        if len(locations) <= reference or not locations[0][1] or not locations[reference][1]:
            raise AdapterError(f"submit: {reply.line} answered a transaction-response without the locations of the "
                               "Patient and the DocumentReference")
        return Receipt(document_id=locations[reference][1], patient_id=locations[0][1])

    def find_patient(self, identifier: str) -> str:
        found = self._search("Patient", [("identifier", identifier)])
        if not found:
            raise NotFound(f"no patient with identifier {identifier!r} (GET Patient?identifier= found none)")
        ids = sorted({str(p.get("id", "")) for p in found})
        if len(ids) > 1:
            raise AdapterError(f"GET Patient?identifier={identifier} matched {len(ids)} patients: {ids}")
        return ids[0]

    def list_documents(self, patient_id: str, category: str | None = None) -> list[DocumentInfo]:
        params = [("patient", patient_id)]
        if category is not None:
            params.append(("type", self._type(category)))
        organisations: dict[str, str | None] = {}
        return [self._custodian_read(fhirmap.document_info(r), r, organisations)
                for r in self._search("DocumentReference", params)]

    def _custodian_read(self, info: DocumentInfo, reference: dict[str, Any],
                        organisations: dict[str, str | None]) -> DocumentInfo:
        """A custodian given as a literal reference (``Organization/<id>`` on the SUT): read that Organization,
        once per listing, for its identifier. Left None when it cannot be read or lies outside the SUT."""
        if info.custodian is not None:
            return info
        target = (reference.get("custodian") or {}).get("reference") if isinstance(
            reference.get("custodian"), dict) else None
        if not isinstance(target, str) or "Organization/" not in target:
            return info
        http = self._adapter.http
        if origin_of(http.url(target)) != http.origin:
            return info
        if target not in organisations:
            try:
                body, _ = self._send("GET", target, "list_documents (custodian)")
            except AdapterAnswer:
                body = None
            organisations[target] = fhirmap.organisation_identifier(body)
        return dataclasses.replace(info, custodian=organisations[target])

    @staticmethod
    def _type(category: str) -> str:
        try:
            return fhirmap.type_token(category)
        except fhirmap.UnknownCategory as exc:
            raise Rejected(str(exc)) from None

    def fetch(self, patient_id: str, category: str, *, document_id: str | None = None,
              emergency_purpose: str | None = None) -> dict[str, Any]:
        return self._fetch(patient_id, category, document_id, self._emergency(emergency_purpose))

    def _fetch(self, patient_id: str, category: str, document_id: str | None, headers: dict[str, str],
               what: str = "fetch") -> dict[str, Any]:
        by_reference = self._interactions["submit"] != "create"
        if document_id is not None and not by_reference:
            path = f"Bundle/{_quote(document_id)}"  # a created document is a Bundle resource
        elif document_id is not None:
            ref, _ = self._send("GET", f"DocumentReference/{_quote(document_id)}", what, headers=headers)
            path = self._document_target(ref)
        elif category == "patient-summary" and self._interactions["fetch"] == "summary":
            path = f"Patient/{_quote(patient_id)}/$summary"
        else:
            refs = self._search("DocumentReference", [("patient", patient_id), ("type", self._type(category))],
                                headers)
            # the latest (the contract's one definition): the newest DocumentReference.date (the document's date)
            # as an instant; documents of the same instant by their order in the searchset, the later winning
            newest = latest(refs, lambda r: str(r.get("date", "")))
            if newest is None:
                raise NotFound(f"no {category} document for patient {patient_id} (GET DocumentReference?patient="
                               f"{patient_id}&type=... found none)")
            path = self._document_target(newest)
        body, reply = self._send("GET", path, what, headers=headers)
        return mapping.document_from(body, reply.line)

    @staticmethod
    def _document_target(reference: Any) -> str:
        """Where a DocumentReference's document is: context.related Bundle, else attachment.url (ITI-68)."""
        if not isinstance(reference, dict):
            raise AdapterError("fetch: the DocumentReference is not a JSON object")
        for related in (reference.get("context") or {}).get("related", []) or []:
            target = (related or {}).get("reference", "") if isinstance(related, dict) else ""
            if isinstance(target, str) and target.startswith("Bundle/"):
                return target
        for content in reference.get("content", []) or []:
            url = ((content or {}).get("attachment") or {}).get("url", "") if isinstance(content, dict) else ""
            if isinstance(url, str) and url and not url.startswith("urn:"):
                return url
        return f"Bundle/{_quote(str(reference.get('id', '')))}"

    def access_log(self, patient_id: str) -> list[dict[str, Any]]:
        return self._search("AuditEvent", [("patient", patient_id), ("_count", "1000")])

    def export_all(self, patient_id: str) -> list[dict[str, Any]]:
        if self._interactions["export_all"] == "none":
            raise NotSupported("[interactions] export_all = \"none\": the SUT offers no full export")
        token = None
        if self._login is not None and self._login.export_client:
            token = self._adapter.export_token(self._login)  # least privilege: a token only the export uses
        return self._search("Bundle", [], start=f"Patient/{_quote(patient_id)}/$everything", token=token)

    def restrict(self, patient_id: str, restriction: Restriction) -> None:
        try:
            resource = fhirmap.consent(patient_id, restriction)
        except fhirmap.UnknownCategory as exc:
            raise Rejected(str(exc)) from None
        self._send("POST", "Consent", "restrict", content=orjson.dumps(resource), headers={"Content-Type": FHIR_JSON})

    # ---- the patient's consent to an access for a purpose (capability consent) ---------------

    def record_consent(self, patient_id: str, consent: Consent) -> ConsentRecord:
        """``POST [base]/Consent`` (a permit with one ``provision.purpose`` and, for one professional, a
        ``provision.actor``); the answer (or, with only a Location, ``GET Consent/<id>``) is the record,
        with who recorded it (``performer``) and when (``dateTime``) as the SUT says."""
        body = fhirmap.access_consent_request(patient_id, consent)
        answer_body, reply = self._send("POST", "Consent", "record_consent", content=orjson.dumps(body),
                                        headers={"Content-Type": FHIR_JSON})
        _kind, consent_id, resource = mapping.created(answer_body, reply.headers.get("location", ""))
        if not consent_id:
            raise AdapterError(f"record_consent: {reply.line} answered HTTP {reply.status_code} but neither its body "
                               "nor a Location header names the Consent recorded; a FHIR create answers 201 with "
                               "Location: [base]/Consent/<id>")
        if resource is None:
            resource, reply = self._send("GET", f"Consent/{_quote(consent_id)}", "record_consent (read back)")
        try:
            record = fhirmap.consent_record(resource)
        except fhirmap.ConsentError as exc:
            raise AdapterError(f"record_consent: {reply.line} answered a Consent the harness cannot read as a "
                               f"consent to an access: {exc}") from None
        return dataclasses.replace(record, consent_id=record.consent_id or consent_id)

    def withdraw_consent(self, patient_id: str, consent_id: str) -> None:
        """``[interactions] withdraw_consent = "update"`` (default): ``GET Consent/<id>``, then ``PUT`` it back
        with ``status`` ``inactive`` (the record is kept); ``"delete"``: ``DELETE Consent/<id>``."""
        path = f"Consent/{_quote(consent_id)}"
        if self._interactions["withdraw_consent"] == "delete":
            self._send("DELETE", path, "withdraw_consent")
            return
        resource, reply = self._send("GET", path, "withdraw_consent (read)")
        if not isinstance(resource, dict) or resource.get("resourceType") != "Consent":
            kind = resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
            raise AdapterError(f"withdraw_consent: {reply.line} answered a {kind}, not the Consent to withdraw")
        owner = fhirmap.ref_id(resource.get("patient"), "Patient")
        if owner != patient_id:
            raise NotFound(f"withdraw_consent: {reply.line} is the consent of Patient/{owner or '?'}, not of "
                           f"Patient/{patient_id}")
        self._send("PUT", path, "withdraw_consent", content=orjson.dumps({**resource, "status": "inactive"}),
                   headers={"Content-Type": FHIR_JSON})

    def fetch_for_purpose(self, patient_id: str, category: str, purpose: str, *,
                          document_id: str | None = None) -> dict[str, Any]:
        """:meth:`fetch` with the purpose code in the ``X-Purpose-Of-Use`` header (percent-encoded): the SUT
        serves it only under a consent in force for that purpose, and logs the access either way."""
        return self._fetch(patient_id, category, document_id, {fhirmap.PURPOSE_HEADER: _quote(purpose)},
                           "fetch_for_purpose")


class FhirRestAdapter:
    """The adapter of a FHIR R4 server (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.exchanges = ExchangeLog()
        self.http = Http(settings, self.exchanges)
        self.oauth = OAuthClient(settings, self.http)
        self._description: SutDescription | None = None
        self._statement: tuple[dict[str, Any] | None, str] | None = None
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str, str], Token] = {}
        self.issued: list[tuple[str, Token]] = []  # (login name, token) as issued, for the token checks

    # ---- evidence -------------------------------------------------------------------------

    def drain_exchanges(self) -> list[dict[str, Any]]:
        """The HTTP exchanges since the last call (the pytest plugin calls this around each check)."""
        return self.exchanges.drain()

    def http_probe(self) -> Any:
        """Raw HTTP access for the transport and token checks (testcases/over_http)."""
        from conformance.adapters.fhir_rest.probe import HttpProbe

        return HttpProbe(self)

    # ---- the contract ----------------------------------------------------------------------

    def describe(self) -> SutDescription:
        with self._lock:
            if self._description is None:
                self._description = self._describe()
            return self._description

    def capability_statement(self) -> dict[str, Any]:
        """GET [base]/metadata; AdapterError (or a contract answer) naming the request otherwise."""
        reply = self.http.send("GET", "metadata", headers={"Accept": FHIR_JSON}, label="CapabilityStatement")
        body = answer(reply, "CapabilityStatement")
        if not isinstance(body, dict) or body.get("resourceType") != "CapabilityStatement":
            kind = body.get("resourceType") if isinstance(body, dict) else type(body).__name__
            raise AdapterError(f"{reply.line} answered a {kind}, not a CapabilityStatement")
        return body

    def statement(self) -> tuple[dict[str, Any] | None, str]:
        """(CapabilityStatement or None, why none) - fetched once; its absence is EHDS-INT-001's to fail."""
        if self._statement is None:
            try:
                self._statement = (self.capability_statement(), "")
            except (AdapterError, AdapterAnswer) as exc:
                self._statement = (None, str(exc))
        return self._statement

    def _describe(self) -> SutDescription:
        """Capabilities: the SUT file's list, else (``"auto"``) what the CapabilityStatement shows, else
        what [interactions] configures. ``extra.capabilities_source`` says which."""
        statement, missing = self.statement()
        declared = self.settings.declared
        known = {c.value for c in Capability}
        listed = declared.get("capabilities", "auto")
        if listed != "auto":
            if isinstance(listed, str) or not isinstance(listed, (list, tuple)):
                raise UsageError("SUT file: [sut] capabilities must be \"auto\" or a list of capabilities")
            unknown = sorted(str(c) for c in listed if str(c) not in known)
            if unknown:
                raise UsageError(f"SUT file: [sut] capabilities {unknown} are unknown; use {', '.join(sorted(known))}")
            caps = {Capability(str(c)) for c in listed}
            source = "SUT file ([sut] capabilities)"
        elif statement is not None:
            caps = mapping.capabilities_from_statement(statement)
            source = "CapabilityStatement (GET metadata)"
        else:
            caps = {Capability.SUBMIT, Capability.EXPORT, Capability.ACCESS_LOG, Capability.RESTRICTION}
            if self.settings.interactions["export_all"] != "none":
                caps.add(Capability.FULL_EXPORT)
            source = f"SUT file [interactions] (no CapabilityStatement: {missing[:300]})"
        caps |= {Capability.HTTP, Capability.FHIR}
        for key in ("produces", "consumes"):
            bad = sorted(set(map(str, declared.get(key, ()))) - set(PRIORITY_CATEGORIES))
            if bad:
                raise UsageError(f"SUT file: [sut] {key} {bad} are not priority categories; use "
                                 f"{', '.join(PRIORITY_CATEGORIES)}")
        statement = statement or {}
        software = statement.get("software") or {}
        derived = {"patient-summary"} if Capability.EXPORT in caps else set()
        return SutDescription(
            product=str(declared.get("product") or software.get("name") or "FHIR server"),
            version=str(declared.get("version") or software.get("version") or ""),
            vendor=str(declared.get("vendor") or statement.get("publisher") or ""),
            capabilities=frozenset(caps),
            produces=frozenset(map(str, declared.get("produces", derived))),
            consumes=frozenset(map(str, declared.get("consumes", ()))),
            extra={"base_url": self.settings.base_url, "fhirVersion": statement.get("fhirVersion", ""),
                   "capabilities_source": source, "interactions": dict(self.settings.interactions)},
        )

    def test_accounts(self) -> TestAccounts:
        a = self.settings.actors
        return TestAccounts(hp=a["hp"], hp_other=a["hp_other"], auditor=a["auditor"],
                            patient_credentials=dict(self.settings.patient_credentials))

    def login_settings(self, actor: Actor) -> LoginSettings:
        if actor.kind is ActorKind.PATIENT:
            login = self.settings.logins.get("patients")
            if login is None:
                raise NotSupported("the SUT file has no [patients] table: patients cannot log in")
            return login
        for name, known in self.settings.actors.items():
            if known.identifier == actor.identifier and known.kind is actor.kind:
                return self.settings.logins[name]
        for name, known in self.settings.actors.items():
            if known.kind is actor.kind:
                return self.settings.logins[name]
        raise Denied(f"no way to log in a {actor.kind.value} is configured")

    def _configured_credentials(self, login: LoginSettings) -> dict[str, Any]:
        if login.name == "patients":
            return dict(self.settings.patient_credentials)
        actor = self.settings.actors.get(login.name.removeprefix("actors."))
        return dict(actor.credentials) if actor else {}

    def login(self, actor: Actor) -> FhirSession:
        """A session with a token for `actor`; Denied when the SUT refuses the login.

        A still-valid token obtained with exactly the same credentials is reused (checks log
        in very often; the SUT already proved it accepts them). Other credentials always
        go to the SUT. With ``login = "bearer"`` the harness holds a token, not credentials:
        other credentials cannot be tried, which is NotSupported (said, never a pass or fail).
        """
        if actor.kind is ActorKind.ANONYMOUS:
            return FhirSession(self, actor, None, None)  # requests go without a token; the server must refuse them
        login = self.login_settings(actor)
        known = self.settings.actors.get(login.name.removeprefix("actors."))
        if (login.login == "client_credentials" and known is not None
                and (actor.identifier != known.identifier
                     or dict(actor.credentials or {}) != self._configured_credentials(login))):
            raise NotSupported(f"[{login.name}] logs in as a system client (client_credentials): the person's "
                               "identifier and password are not sent, so a login with other ones cannot be tried")
        if login.login == "bearer" and dict(actor.credentials or {}) != self._configured_credentials(login):
            raise NotSupported(f"[{login.name}] logs in with a vendor-supplied bearer token (login = \"bearer\"): "
                               "the harness holds no credentials, so a login with other credentials cannot be "
                               "tried; use login = \"authorization_code\" to test it")
        with self._lock:
            cached = self._tokens.get(self._token_key(login, actor))
        if cached is None or (cached.expires_at - time.time() < 120 and login.login != "bearer"):
            cached = self.token_for(login, actor)
        return FhirSession(self, actor, login, cached)

    @staticmethod
    def _token_key(login: LoginSettings, actor: Actor) -> tuple[str, str, str, str]:
        secret = str(actor.credentials.get("password", "")) if actor.credentials else ""
        return login.name, actor.kind.value, actor.identifier, hashlib.sha256(secret.encode()).hexdigest()

    def token_for(self, login: LoginSettings, actor: Actor) -> Token:
        """A fresh token from the SUT (remembered for later logins with the same credentials)."""
        token = self.oauth.login(login, actor)
        with self._lock:
            self._tokens[self._token_key(login, actor)] = token
            if len(self.issued) < 50:
                self.issued.append((login.name, token))
        return token

    def export_token(self, login: LoginSettings) -> Token:
        """The data holder's export token ([actors.auditor] export_client / export_scope), cached while valid."""
        key = (f"{login.name}#export", "", login.export_client, "")
        with self._lock:
            cached = self._tokens.get(key)
        if cached is None or cached.expires_at - time.time() < 60:
            cached = self.oauth.client_credentials(login, login.export_scope, client=login.export_client)
            with self._lock:
                self._tokens[key] = cached
                if len(self.issued) < 50:
                    self.issued.append((f"{login.name} (export)", cached))
        return cached

    def close(self) -> None:
        self.http.close()
