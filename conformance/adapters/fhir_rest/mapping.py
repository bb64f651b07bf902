"""Pure functions between the contract and standard FHIR REST messages (no HTTP here).

Why separate from the session: what a standard FHIR server may answer (201 with a
Location, the created resource, an OperationOutcome, a transaction-response) and
how a document becomes a transaction or an MHD Provide Document Bundle (ITI-65) are
rules worth reading and testing on their own. Resource-level mapping shared with the
reference server (Consent, DocumentReference, LOINC types) is :mod:`conformance.fhirmap`.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from conformance import fhirmap
from conformance.adapter import Capability
from conformance.errors import AdapterError

MHD_SUBMISSION_SET = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.SubmissionSet"


def search_entries(bundle: Any, resource_type: str, line: str) -> list[dict[str, Any]]:
    """The `resource_type` resources of a searchset page (AdapterError naming the request otherwise)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise AdapterError(f"{line} answered a {kind}, not a searchset Bundle of {resource_type}")
    return [e["resource"] for e in bundle.get("entry", []) or []
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == resource_type]


def next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link", []) or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def created(body: Any, location: str) -> tuple[str, str, dict[str, Any] | None]:
    """(resource type, id, resource or None) of a standard create answer.

    Accepted: 201/200 with the resource, with an OperationOutcome, or with no body, and
    the id from the body or from the Location header (``[base]/Type/id/_history/v``).
    """
    resource = body if isinstance(body, dict) and body.get("resourceType") not in (None, "OperationOutcome") else None
    kind, ident = fhirmap.id_from_location(location) if location else ("", "")
    if resource is not None and resource.get("id"):
        return str(resource["resourceType"]), str(resource["id"]), resource
    return kind, ident, resource


def transaction_locations(body: Any, line: str) -> list[tuple[str, str]]:
    """(resource type, id) per entry of a transaction-response, in request order."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle" or \
            body.get("type") not in ("transaction-response", "batch-response"):
        raise AdapterError(f"{line} did not answer a transaction-response Bundle (got "
                           f"{body.get('resourceType') if isinstance(body, dict) else type(body).__name__})")
    found = []
    for entry in body.get("entry", []) or []:
        response = entry.get("response") if isinstance(entry, dict) else None
        location = str((response or {}).get("location", "")) if isinstance(response, dict) else ""
        status = str((response or {}).get("status", "")) if isinstance(response, dict) else ""
        if not status.startswith(("200", "201")):
            raise AdapterError(f"{line}: a transaction entry answered {status or 'no status'}")
        found.append(fhirmap.id_from_location(location) if location else ("", ""))
    return found


def _patient_entry(identifiers: list[str], full_url: str) -> dict[str, Any]:
    system, _, value = identifiers[0].rpartition("|")
    return {"fullUrl": full_url,
            "resource": {"resourceType": "Patient", "identifier": [{"system": system, "value": value}]},
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={identifiers[0]}"}}


def _document_reference(document: Mapping[str, Any], patient_url: str, attachment: dict[str, Any]) -> dict[str, Any]:
    comp = next((e.get("resource") for e in document.get("entry", []) or []
                 if isinstance(e, dict) and (e.get("resource") or {}).get("resourceType") == "Composition"), {}) or {}
    # the document's own date (as the reference server lists it): what a listing shows and what "the latest
    # document of a category" is judged by; the time of filing only when the Composition has none
    date = comp.get("date") if isinstance(comp.get("date"), str) and comp.get("date") else \
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    ref: dict[str, Any] = {"resourceType": "DocumentReference", "status": "current",
                           "type": comp.get("type") or {}, "subject": {"reference": patient_url},
                           "date": fhirmap.instant(date),
                           "content": [{"attachment": attachment}]}
    if comp.get("title"):
        ref["description"] = str(comp["title"])
    custodian = fhirmap.document_custodian(document)
    if custodian:  # the origin of the data, so a listing names it (EHDS-INT-003)
        ref["custodian"] = fhirmap.organisation_reference(custodian)
    ident = document.get("identifier")
    if isinstance(ident, dict) and ident.get("value"):
        ref["masterIdentifier"] = ident
    return ref


def transaction(document: Mapping[str, Any], identifiers: list[str]) -> dict[str, Any]:
    """A transaction filing the document Bundle, its patient (conditional create) and a DocumentReference.

    Entries: 0 Patient, 1 Bundle, 2 DocumentReference (whose attachment points at the Bundle).
    """
    patient_url, bundle_url = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    reference = _document_reference(document, patient_url, {"contentType": "application/fhir+json",
                                                            "url": bundle_url})
    reference["context"] = {"related": [{"reference": bundle_url}]}
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        _patient_entry(identifiers, patient_url),
        {"fullUrl": bundle_url, "resource": dict(document), "request": {"method": "POST", "url": "Bundle"}},
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": reference,
         "request": {"method": "POST", "url": "DocumentReference"}},
    ]}


def provide_document_bundle(document: Mapping[str, Any] | bytes, identifiers: list[str],
                            content_type: str) -> dict[str, Any]:
    """IHE MHD ITI-65 (Minimal): SubmissionSet List, DocumentReference, Binary, and the patient.

    Entries: 0 Patient, 1 Binary, 2 DocumentReference, 3 List.
    """
    data = document if isinstance(document, bytes) else orjson.dumps(dict(document))
    patient_url, binary_url, ref_url = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    reference = _document_reference(document if isinstance(document, Mapping) else {}, patient_url,
                                    {"contentType": content_type, "url": binary_url})
    submission = {"resourceType": "List", "status": "current", "mode": "working",
                  "meta": {"profile": [MHD_SUBMISSION_SET]},
                  "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
                                       "code": "submissionset"}]},
                  "subject": {"reference": patient_url}, "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                  "entry": [{"item": {"reference": ref_url}}]}
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        _patient_entry(identifiers, patient_url),
        {"fullUrl": binary_url, "resource": {"resourceType": "Binary", "contentType": content_type,
                                             "data": base64.b64encode(data).decode("ascii")},
         "request": {"method": "POST", "url": "Binary"}},
        {"fullUrl": ref_url, "resource": reference, "request": {"method": "POST", "url": "DocumentReference"}},
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": submission, "request": {"method": "POST", "url": "List"}},
    ]}


def document_from(body: Any, line: str) -> dict[str, Any]:
    """A fetched document: a Bundle as is, or a FHIR Binary holding one (base64 data)."""
    if isinstance(body, dict) and body.get("resourceType") == "Binary":
        try:
            inner = orjson.loads(base64.b64decode(str(body.get("data", ""))))
        except (ValueError, orjson.JSONDecodeError):
            raise AdapterError(f"{line} answered a Binary whose data is not a base64 FHIR JSON document") from None
        body = inner
    if not isinstance(body, dict):
        raise AdapterError(f"{line}: the answer is not a JSON object")
    return body


def capabilities_from_statement(statement: Mapping[str, Any]) -> set[Capability]:
    """What a plain CapabilityStatement shows, in standard interactions (no vendor extension needed)."""
    caps: set[Capability] = set()
    for rest in statement.get("rest", []) or []:
        if not isinstance(rest, dict):
            continue
        system = {i.get("code") for i in rest.get("interaction", []) or [] if isinstance(i, dict)}
        if "transaction" in system:
            caps.add(Capability.SUBMIT)
        for res in rest.get("resource", []) or []:
            if not isinstance(res, dict):
                continue
            kind = res.get("type")
            codes = {i.get("code") for i in res.get("interaction", []) or [] if isinstance(i, dict)}
            ops = {o.get("name") for o in res.get("operation", []) or [] if isinstance(o, dict)}
            if kind == "Bundle" and "create" in codes:
                caps.add(Capability.SUBMIT)
            if kind == "Binary" and "create" in codes:
                caps.add(Capability.CDA)
            if (kind == "Patient" and "summary" in ops) or (kind == "Bundle" and "read" in codes) or \
                    (kind == "DocumentReference" and "search-type" in codes):
                caps.add(Capability.EXPORT)
            if kind == "Patient" and "everything" in ops:
                caps.add(Capability.FULL_EXPORT)
            if kind == "AuditEvent" and "search-type" in codes:
                caps.add(Capability.ACCESS_LOG)
            if kind == "Consent" and "create" in codes:
                caps.add(Capability.RESTRICTION)
    return caps
