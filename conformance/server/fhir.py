"""The FHIR R4 REST routes: each maps one request onto one service call.

| Request | Service call | Scope needed |
|---|---|---|
| ``GET Patient?identifier=s|v`` | find_patient + read_patient | Patient.s |
| ``GET Patient/<id>`` | read_patient | Patient.r |
| ``GET Patient/<id>/$summary`` | fetch(patient-summary) | Bundle.r |
| ``GET DocumentReference?patient=&type=`` | list_documents | DocumentReference.s |
| ``GET Bundle/<id>`` (attachment.url) | fetch_by_id | Bundle.r |
| ``POST Bundle`` (FHIR document) | submit | Bundle.c |
| ``POST Binary`` (CDA, application/cda+xml) | submit | Binary.c |
| ``GET AuditEvent?patient=&date=&agent=`` | access_log (+ filters, paging) | AuditEvent.s |
| ``POST Consent`` (no ``provision.purpose``) | restrict | Consent.c |
| ``POST Consent`` (``provision.purpose``) | record_consent | Consent.c |
| ``GET Consent/<id>`` | read_consent / restriction | Consent.r |
| ``PUT Consent/<id>`` (``status`` ``inactive``) | withdraw_consent (or restrict, for ``restriction-<pid>``) | Consent.u |
| ``DELETE Consent/<id>`` | withdraw_consent (or lift the restriction) | Consent.d |
| ``GET Consent?patient=&status=&purpose=`` | restriction (the patient only) + consents | Consent.s |

``PUT``/``PATCH``/``DELETE``/``POST`` on AuditEvent are refused (405): the log is read-only.
Emergency access: the ``X-Emergency-Access-Purpose`` header (percent-encoded) on
``$summary``, ``Bundle/<id>`` and ``DocumentReference`` searches. An access subject to the
patient's consent (fetch_for_purpose): the ``X-Purpose-Of-Use`` header (the purpose code,
percent-encoded) on ``$summary`` and ``Bundle/<id>``; not together with the emergency header.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from conformance.adapter import PRIORITY_CATEGORIES, AdapterAnswer, Capability, ConsentRecord, Restriction
from conformance.server import scopes, shapes
from conformance.server.gateway import FHIR_ID, Caller, Gateway, HttpAnswer, answer_for, identify
from conformance.server.http import BodyTooLarge, error_response, fhir_response, read_body

#: What the reference EHR offers over HTTP (HTTP is how the adapter reaches it, so the adapter adds it).
#: Listed one by one: a capability the contract gains is not claimed until the server routes it (the
#: Sesali PSC login, French display and trait lookup are in-process only for now).
CAPABILITIES = frozenset({
    Capability.FHIR, Capability.CDA, Capability.SUBMIT, Capability.EXPORT, Capability.ACCESS_LOG,
    Capability.RESTRICTION, Capability.EMERGENCY_ACCESS, Capability.PATIENT_ACCESS, Capability.FULL_EXPORT,
    Capability.CONSENT,
})
CDA_TYPES = ("application/cda+xml", "application/hl7-cda+xml", "application/xml", "text/xml")
JSON_TYPES = ("application/fhir+json", "application/json")
DEFAULT_COUNT, MAX_COUNT = 100, 1000


def _emergency(request: Request) -> str | None:
    raw = request.headers.get(shapes.EMERGENCY_HEADER)
    return None if raw is None else urllib.parse.unquote(raw)


def _purpose(request: Request) -> str | None:
    """The purpose of an access subject to consent (X-Purpose-Of-Use), None without the header."""
    raw = request.headers.get(shapes.PURPOSE_HEADER)
    if raw is None:
        return None
    if request.headers.get(shapes.EMERGENCY_HEADER) is not None:
        raise HttpAnswer(error_response(400, "invalid", f"send either {shapes.PURPOSE_HEADER} (an access under the "
                                        f"patient's consent) or {shapes.EMERGENCY_HEADER} (emergency access), "
                                        "not both"))
    return urllib.parse.unquote(raw)


def _check_id(value: str, what: str) -> str:
    if not FHIR_ID.match(value):
        raise HttpAnswer(error_response(400, "value", f"{what}: {value[:80]!r} is not a FHIR id "
                                        "([A-Za-z0-9-.]{1,64})"))
    return value


def _patient_param(request: Request, required: bool = True) -> str | None:
    value = request.query_params.get("patient") or request.query_params.get("subject")
    if not value:
        if required:
            raise HttpAnswer(error_response(400, "required", "search parameter 'patient' is required "
                                            "(patient=Patient/<id> or patient=<id>)"))
        return None
    return _check_id(value.removeprefix("Patient/"), "patient")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _json_body(request: Request, gw: Gateway) -> Any:
    if _media_type(request) not in JSON_TYPES:
        raise HttpAnswer(error_response(415, "not-supported", "send FHIR JSON (Content-Type: application/fhir+json)"))
    try:
        raw = await read_body(request, gw.config.max_body_bytes)
    except BodyTooLarge:
        raise HttpAnswer(error_response(413, "too-costly", f"request body over the {gw.config.max_body_bytes}-byte "
                                        "limit")) from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HttpAnswer(error_response(400, "structure", f"malformed JSON: {exc}; nothing was stored")) from None


async def _service(gw: Gateway, caller: Caller, request: Request, fn: Callable[..., Any], *args: Any,
                   **kwargs: Any) -> Any:
    try:
        return await gw.call(caller, request, fn, *args, **kwargs)
    except AdapterAnswer as exc:
        response = answer_for(exc)
        if response is None:
            raise
        raise HttpAnswer(response) from None


_DATE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
                   r"(Z|[+-]\d{2}:\d{2})?)?)?)?)$")


def _date_filter(values: list[str]) -> Callable[[dict[str, Any]], bool]:
    tests: list[Callable[[str], bool]] = []
    for value in values:
        match = _DATE.match(value)
        if not match:
            raise HttpAnswer(error_response(400, "value", f"date={value!r}: use a FHIR date/dateTime with an "
                                            "optional prefix (ge2025-01-01, lt2025-06-01T12:00:00Z)"))
        prefix, when = match.group(1) or "eq", match.group(2)
        bound = _as_utc(when)
        if bound is None:
            raise HttpAnswer(error_response(400, "value", f"date={value!r} is not a valid date"))
        day_only = "T" not in when
        ops: dict[str, Callable[[dt.datetime, dt.datetime], bool]] = {
            "eq": (lambda a, b: a.date() == b.date()) if day_only else (lambda a, b: a == b),
            "ne": lambda a, b: a != b, "gt": lambda a, b: a > b, "sa": lambda a, b: a > b,
            "lt": lambda a, b: a < b, "eb": lambda a, b: a < b, "ge": lambda a, b: a >= b, "le": lambda a, b: a <= b,
        }
        op = ops[prefix]
        tests.append(lambda recorded, op=op, bound=bound: (r := _as_utc(recorded)) is not None and op(r, bound))
    return lambda entry: all(t(str(entry.get("recorded", ""))) for t in tests)


def _as_utc(text: str) -> dt.datetime | None:
    try:
        if len(text) == 4:
            text += "-01-01"
        elif len(text) == 7:
            text += "-01"
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _agent_filter(values: list[str]) -> Callable[[dict[str, Any]], bool]:
    wanted = set()
    for value in values:
        wanted.add(value)
        wanted.add(value.split("|", 1)[1] if "|" in value else value)

    def match(entry: dict[str, Any]) -> bool:
        for agent in entry.get("agent", []) or []:
            who = agent.get("who") or {}
            ident = who.get("identifier") or {}
            keys = {who.get("reference"), ident.get("value"),
                    f"{ident.get('system')}|{ident.get('value')}" if ident.get("system") else None}
            if wanted & {k for k in keys if k}:
                return True
        return False

    return match


def _int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise HttpAnswer(error_response(400, "value", f"{name} must be a non-negative whole number"))
    return min(int(raw), high)


def add_routes(app: FastAPI, gw: Gateway, *, product: str, version: str, vendor: str) -> None:
    @app.get("/fhir/metadata")
    async def metadata(request: Request) -> Response:
        u = gw.urls(request)
        return fhir_response(shapes.capability_statement(
            fhir_base=u.fhir_base, token_endpoint=u.token_endpoint, authorize_endpoint=u.authorize_endpoint,
            product=product, version=version, vendor=vendor, capabilities=CAPABILITIES,
            produces=PRIORITY_CATEGORIES, consumes=PRIORITY_CATEGORIES))

    @app.get("/fhir/Patient")
    async def patient_search(request: Request) -> Response:
        u = gw.urls(request)
        identifier = request.query_params.get("identifier")
        caller = await gw.caller(request, "Patient", "s", action="find-patient")
        if not identifier:
            raise HttpAnswer(error_response(400, "required", "search parameter 'identifier' is required "
                                            "(identifier=system|value)"))
        try:
            pid = await _service(gw, caller, request, gw.service.find_patient, caller.principal, identifier)
        except HttpAnswer as answer:
            if answer.response.status_code != 404:
                raise
            found: list[dict[str, Any]] = []
        else:
            found = [await _service(gw, caller, request, gw.service.read_patient, caller.principal, pid)]
        return fhir_response(shapes.searchset(u.fhir_base, found, self_url=str(request.url)))

    @app.get("/fhir/Patient/{pid}")
    async def patient_read(pid: str, request: Request) -> Response:
        _check_id(pid, "Patient id")
        caller = await gw.caller(request, "Patient", "r", patient_id=pid, action="find-patient")
        return fhir_response(await _service(gw, caller, request, gw.service.read_patient, caller.principal, pid))

    @app.get("/fhir/Patient/{pid}/$summary")
    async def patient_summary(pid: str, request: Request) -> Response:
        _check_id(pid, "Patient id")
        caller = await gw.caller(request, "Bundle", "r", patient_id=pid, action="read")
        purpose = _purpose(request)
        if purpose is not None:
            return fhir_response(await _service(gw, caller, request, gw.service.fetch_for_purpose, caller.principal,
                                                 pid, "patient-summary", purpose))
        bundle = await _service(gw, caller, request, gw.service.fetch, caller.principal, pid, "patient-summary",
                                emergency_purpose=_emergency(request))
        return fhir_response(bundle)

    @app.get("/fhir/Patient/{pid}/$everything")
    async def patient_everything(pid: str, request: Request) -> Response:
        """The complete export for system replacement (EHDS-INT-011): every document Bundle of the patient.

        Least privilege: it hands over every clinical document, so the token must carry the
        data holder's export scope (``system/Bundle.r`` with ``system/Patient.r``), not just
        Patient read (the log-review client's ``system/Patient.rs`` is refused, and logged);
        the EHR then allows the data holder only, and logs the export."""
        _check_id(pid, "Patient id")
        caller = await gw.caller(request, "Bundle", "r", patient_id=pid, action="export-all")
        if caller.grant is None or not any(s.startswith("system/") and scopes.permits([s], "Bundle", "r")
                                           for s in caller.grant.scopes) \
                or not scopes.permits(list(caller.grant.scopes), "Patient", "r"):
            await gw.log_refused(request, caller.principal, pid, "export-all",
                                 "full export refused: the token lacks the export scope system/Bundle.r + Patient.r")
            raise HttpAnswer(error_response(403, "forbidden", "Patient/$everything needs the data holder's export "
                                            "scope (system/Bundle.r and system/Patient.r)", headers={
                                                "WWW-Authenticate": 'Bearer error="insufficient_scope", '
                                                                    'scope="system/Bundle.r system/Patient.r"'}))
        bundles = await _service(gw, caller, request, gw.service.export_all, caller.principal, pid)
        entries = [{**({"fullUrl": ident} if isinstance(ident := (b.get("identifier") or {}).get("value"), str)
                       and ident.startswith("urn:") else {}), "resource": b, "search": {"mode": "match"}}
                   for b in bundles]
        return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                              "link": [{"relation": "self", "url": str(request.url)}],
                              **({"entry": entries} if entries else {})})

    @app.get("/fhir/Bundle/{doc_id}")
    async def bundle_read(doc_id: str, request: Request) -> Response:
        _check_id(doc_id, "Bundle id")
        caller = await gw.caller(request, "Bundle", "r", patient_id=_patient_of(gw, doc_id), action="read")
        purpose = _purpose(request)
        if purpose is not None:
            return fhir_response(await _service(gw, caller, request, gw.service.fetch_by_id_for_purpose,
                                                 caller.principal, doc_id, purpose))
        bundle = await _service(gw, caller, request, gw.service.fetch_by_id, caller.principal, doc_id,
                                emergency_purpose=_emergency(request))
        return fhir_response(bundle)

    @app.post("/fhir/Bundle")
    async def bundle_create(request: Request) -> Response:
        caller = await gw.caller(request, "Bundle", "c", action="create")
        document = await _json_body(request, gw)
        if not isinstance(document, dict):
            raise HttpAnswer(error_response(400, "structure", "the body must be a FHIR document Bundle (a JSON "
                                            "object); nothing was stored"))
        return await _filed(gw, caller, request, document)

    @app.post("/fhir/Binary")
    async def binary_create(request: Request) -> Response:
        caller = await gw.caller(request, "Binary", "c", action="create")
        if _media_type(request) not in CDA_TYPES:
            raise HttpAnswer(error_response(415, "not-supported", "POST Binary takes a CDA document "
                                            "(Content-Type: application/cda+xml)"))
        try:
            raw = await read_body(request, gw.config.max_body_bytes)
        except BodyTooLarge:
            raise HttpAnswer(error_response(413, "too-costly", "request body over the size limit")) from None
        return await _filed(gw, caller, request, raw)

    @app.get("/fhir/DocumentReference")
    async def document_search(request: Request) -> Response:
        u = gw.urls(request)
        pid = _patient_param(request, required=False)
        caller = await gw.caller(request, "DocumentReference", "s", patient_id=pid, action="search")
        if pid is None:
            _patient_param(request)
        categories: list[str | None] = [None]
        if request.query_params.get("type"):
            found = shapes.categories_for_type(request.query_params["type"])
            if found is None:
                raise HttpAnswer(error_response(400, "code-invalid", "type: use LOINC document types of the priority "
                                                "categories (" + ", ".join(f"http://loinc.org|{c}" for c in
                                                                           shapes.LOINC_BY_CATEGORY.values()) + ")"))
            categories = sorted(found)  # type: ignore[arg-type]
        emergency = _emergency(request)
        infos = []
        for category in categories:
            infos += await _service(gw, caller, request, gw.service.list_documents, caller.principal, pid, category,
                                    emergency_purpose=emergency)
        refs = [shapes.document_reference(u.fhir_base, i) for i in infos]
        return fhir_response(shapes.searchset(u.fhir_base, refs, self_url=str(request.url)))

    @app.get("/fhir/AuditEvent")
    async def audit_search(request: Request) -> Response:
        u = gw.urls(request)
        pid = _patient_param(request, required=False)
        caller = await gw.caller(request, "AuditEvent", "s", patient_id=pid, action="read-log")
        if pid is None:
            _patient_param(request)
        count = _int_param(request, "_count", DEFAULT_COUNT, MAX_COUNT)
        offset = _int_param(request, "_offset", 0, 10**9)
        filters = []
        if request.query_params.getlist("date"):
            filters.append(_date_filter(request.query_params.getlist("date")))
        if request.query_params.getlist("agent"):
            filters.append(_agent_filter(request.query_params.getlist("agent")))
        entries = await _service(gw, caller, request, gw.service.access_log, caller.principal, pid)
        entries = [e for e in entries if all(f(e) for f in filters)]
        page = entries[offset:offset + count] if count else []
        next_url = None
        if count and offset + count < len(entries):
            params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_count", "_offset")]
            params += [("_count", str(count)), ("_offset", str(offset + count))]
            next_url = f"{u.fhir_base}/AuditEvent?{urllib.parse.urlencode(params)}"
        return fhir_response(shapes.searchset(u.fhir_base, page, self_url=str(request.url), total=len(entries),
                                              next_url=next_url))

    @app.api_route("/fhir/AuditEvent", methods=["POST", "PUT", "PATCH", "DELETE"])
    @app.api_route("/fhir/AuditEvent/{event_id}", methods=["POST", "PUT", "PATCH", "DELETE"])
    async def audit_write(request: Request, event_id: str = "") -> Response:
        """Refuse every write to the access log, and log the attempt with the caller when the token says who."""
        principal = await identify(gw, request)
        target = f"AuditEvent/{event_id}" if event_id else "AuditEvent"
        action = {"POST": "log-create", "DELETE": "log-delete"}.get(request.method, "log-update")
        await gw.log_refused(request, principal, None, action,
                             f"{request.method} {target} refused: the access log is read-only")
        return error_response(405, "not-supported", "the access log is read-only: AuditEvents cannot be created, "
                              "changed or deleted through the API", headers={"Allow": "GET"})

    # ---- Consent: the Art 8 restriction and the patient's consent to an access for a purpose ----
    # One resource type, two meanings (conformance.fhirmap): a Consent with provision.purpose is a consent
    # to an access (record / withdraw), one without is the patient's restriction (one per patient, id
    # restriction-<patient id>).

    @app.post("/fhir/Consent")
    async def consent_create(request: Request) -> Response:
        u = gw.urls(request)
        caller = await gw.caller(request, "Consent", "c", action="restrict")
        body = await _json_body(request, gw)
        if shapes.is_access_consent(body):
            wanted = _access_consent(body)
            if not wanted.active:
                raise HttpAnswer(error_response(400, "invalid", "Consent.status: a consent is recorded 'active'; "
                                                "to withdraw one, PUT Consent/<id> with status 'inactive' (or "
                                                "DELETE Consent/<id>); nothing was recorded"))
            record = await _service(gw, caller, request, gw.service.record_consent, caller.principal,
                                    wanted.patient_id, wanted.consent)
            return fhir_response(shapes.access_consent(record), 201,
                                 {"Location": f"{u.fhir_base}/Consent/{record.consent_id}"})
        pid, restriction = _restriction(body)
        await _service(gw, caller, request, gw.service.restrict, caller.principal, pid, restriction)
        resource = shapes.consent(pid, restriction, resource_id=RESTRICTION_ID + pid)
        return fhir_response(resource, 201, {"Location": f"{u.fhir_base}/Consent/{resource['id']}"})

    @app.get("/fhir/Consent/{cid}")
    async def consent_read(cid: str, request: Request) -> Response:
        pid = _consent_patient(gw, cid)
        caller = await gw.caller(request, "Consent", "r", patient_id=pid, action="consent")
        if cid.startswith(RESTRICTION_ID):
            return fhir_response(await _restriction_consent(gw, caller, request, cid, pid))
        record = await _service(gw, caller, request, gw.service.read_consent, caller.principal, cid)
        return fhir_response(shapes.access_consent(record))

    @app.put("/fhir/Consent/{cid}")
    async def consent_update(cid: str, request: Request) -> Response:
        """Withdraw a consent (``status`` ``inactive``), or replace the patient's restriction.

        A recorded consent never changes otherwise: another purpose or professional is a new consent
        (POST), and a withdrawn one stays withdrawn (the record is kept)."""
        pid = _consent_patient(gw, cid)
        caller = await gw.caller(request, "Consent", "u", patient_id=pid, action="consent")
        body = await _json_body(request, gw)
        if isinstance(body, dict) and body.get("id") not in (None, cid):
            raise HttpAnswer(error_response(400, "invalid", f"Consent.id: the body's id {str(body['id'])[:80]!r} "
                                            f"is not the URL's {cid!r}; send the same id (nothing was changed)"))
        if cid.startswith(RESTRICTION_ID):
            new_pid, restriction = _restriction(body)
            if new_pid != pid:
                raise HttpAnswer(error_response(400, "invalid", f"Consent.patient: Consent/{cid} is the restriction "
                                                f"of Patient/{pid}; nothing was changed"))
            await _service(gw, caller, request, gw.service.restrict, caller.principal, pid, restriction)
            return fhir_response(shapes.consent(pid, restriction, resource_id=cid))
        if not shapes.is_access_consent(body):
            raise HttpAnswer(error_response(400, "invalid", f"Consent.provision.purpose: Consent/{cid} is a consent "
                                            "to an access for a purpose; send it back with its purpose (GET it, "
                                            "change status, PUT it); nothing was changed"))
        wanted = _access_consent(body)
        current = await _service(gw, caller, request, gw.service.read_consent, caller.principal, cid)
        if (wanted.patient_id, wanted.consent) != (current.patient_id, current.consent):
            raise HttpAnswer(error_response(422, "business-rule", f"Consent/{cid}: only its status changes (to "
                                            "'inactive', to withdraw it); for another patient, purpose or "
                                            "professional record a new consent (POST Consent); nothing was changed"))
        if wanted.active and not current.active:
            raise HttpAnswer(error_response(422, "business-rule", f"Consent.status: Consent/{cid} was withdrawn "
                                            "and stays withdrawn (the record is kept); record a new consent (POST "
                                            "Consent); nothing was changed"))
        if current.active and not wanted.active:
            await _service(gw, caller, request, gw.service.withdraw_consent, caller.principal, current.patient_id,
                           cid)
            current = await _service(gw, caller, request, gw.service.read_consent, caller.principal, cid)
        return fhir_response(shapes.access_consent(current))

    @app.delete("/fhir/Consent/{cid}")
    async def consent_delete(cid: str, request: Request) -> Response:
        """Withdraw a consent (kept for the record, status inactive) or lift the patient's restriction."""
        pid = _consent_patient(gw, cid)
        caller = await gw.caller(request, "Consent", "d", patient_id=pid, action="consent")
        if cid.startswith(RESTRICTION_ID):
            await _service(gw, caller, request, gw.service.restrict, caller.principal, pid, Restriction())
            return fhir_response(shapes.outcome("informational", f"Consent/{cid}: the restriction is lifted",
                                                severity="information"))
        current = await _service(gw, caller, request, gw.service.read_consent, caller.principal, cid)
        if current.active:
            await _service(gw, caller, request, gw.service.withdraw_consent, caller.principal, current.patient_id,
                           cid)
        return fhir_response(shapes.outcome("informational", f"Consent/{cid} is withdrawn (kept for the record "
                                            "with status 'inactive')", severity="information"))

    @app.get("/fhir/Consent")
    async def consent_search(request: Request) -> Response:
        """The patient's restriction (to the patient only) and consents (to whom may record them),
        optionally by ``status`` and ``purpose`` ([system|]code)."""
        u = gw.urls(request)
        pid = _patient_param(request, required=False)
        caller = await gw.caller(request, "Consent", "s", patient_id=pid, action="restrict")
        if pid is None:
            _patient_param(request)
        found: list[dict[str, Any]] = []
        if gw.service.is_permitted(caller.principal, "restrict", pid):  # the restriction is the patient's own
            restriction = await _service(gw, caller, request, gw.service.restriction, caller.principal, pid)
            if restriction.document_ids or restriction.categories:
                found.append(shapes.consent(pid, restriction, resource_id=RESTRICTION_ID + pid))
        records = await _service(gw, caller, request, gw.service.consents, caller.principal, pid)
        found += [shapes.access_consent(r) for r in records]
        statuses = request.query_params.getlist("status")
        if statuses:
            found = [r for r in found if r.get("status") in ",".join(statuses).split(",")]
        purposes = request.query_params.getlist("purpose")
        if purposes:
            wanted = {p.rpartition("|")[2] for p in ",".join(purposes).split(",")}
            found = [r for r in found if {c.get("code") for c in r["provision"].get("purpose", [])} & wanted]
        return fhir_response(shapes.searchset(u.fhir_base, found, self_url=str(request.url)))


#: The id of a patient's restriction Consent: this prefix and the patient id.
RESTRICTION_ID = "restriction-"


def _restriction(body: Any) -> tuple[str, Restriction]:
    try:
        pid, restriction = shapes.restriction_from_consent(body)
    except shapes.ConsentError as exc:
        raise HttpAnswer(error_response(400, "invalid", f"{exc}; nothing was changed")) from None
    return _check_id(pid, "Consent.patient"), restriction


def _access_consent(body: Any) -> ConsentRecord:
    try:
        wanted = shapes.consent_record(body)
    except shapes.ConsentError as exc:
        raise HttpAnswer(error_response(400, "invalid", f"{exc}; nothing was changed")) from None
    _check_id(wanted.patient_id, "Consent.patient")
    return wanted


def _consent_patient(gw: Gateway, cid: str) -> str | None:
    """The patient a Consent id belongs to (a restriction's from its id, a consent's from the store),
    for logging a refused request; 400 for an id that is not a FHIR id."""
    if cid.startswith(RESTRICTION_ID):
        return _check_id(cid.removeprefix(RESTRICTION_ID), "Consent id (restriction-<patient id>)")
    _check_id(cid, "Consent id")
    try:
        row = gw.service.store.consent(cid)
    except Exception:  # noqa: BLE001 - only a logging hint
        return None
    return str(row["patient_id"]) if row is not None else None


async def _restriction_consent(gw: Gateway, caller: Caller, request: Request, cid: str, pid: str | None) -> Any:
    restriction = await _service(gw, caller, request, gw.service.restriction, caller.principal, pid)
    if not (restriction.document_ids or restriction.categories):
        raise HttpAnswer(error_response(404, "not-found", f"Consent/{cid}: the patient restricts nothing"))
    return shapes.consent(str(pid), restriction, resource_id=cid)


async def _filed(gw: Gateway, caller: Caller, request: Request, document: Any) -> Response:
    u = gw.urls(request)
    receipt = await _service(gw, caller, request, gw.service.submit, caller.principal, document)
    return fhir_response(shapes.receipt_reference(u.fhir_base, receipt.document_id, receipt.patient_id), 201,
                         {"Location": f"{u.fhir_base}/Bundle/{receipt.document_id}"})


def _patient_of(gw: Gateway, doc_id: str) -> str | None:
    """The patient a document belongs to, for logging a refused request (None when unknown)."""
    try:
        row = gw.service.store.document(doc_id)
    except Exception:  # noqa: BLE001 - only a logging hint
        return None
    return row.patient_id if row is not None else None


__all__ = ["CAPABILITIES", "add_routes"]
