"""The contract <-> FHIR R4 mapping, one copy for both sides of the wire.

Why here: the ``fhir`` adapter (client) and the reference server both turn a
restriction into a Consent and back, the patient's consent to an access for a purpose
into a Consent and back, a stored document into a DocumentReference and back, a
priority category into LOINC document types. When each side had its own copy
they drifted (one code per category on one side, every code on the other). Pure
functions over dicts; no HTTP, no EHR rules, no requirement ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from conformance.adapter import Consent, ConsentRecord, DocumentInfo, Restriction
from conformance.categories import (  # noqa: F401 - re-exported: the one category table
    CATEGORY_BY_LOINC,
    CATEGORY_LOINC,
    LOINC,
    LOINC_BY_CATEGORY,
    PRIORITY_CATEGORIES,
)


class UnknownCategory(ValueError):
    """A category that is not one of the priority categories (the message lists them)."""


def loinc_codes(category: str) -> tuple[str, ...]:
    """Every LOINC document type of a priority category; UnknownCategory otherwise."""
    codes = CATEGORY_LOINC.get(category)
    if not codes:
        raise UnknownCategory(f"unknown category {category!r}; use one of {', '.join(PRIORITY_CATEGORIES)}")
    return tuple(codes)


def type_token(category: str) -> str:
    """The ``type=`` search value of a category: ``http://loinc.org|code`` for each of its codes."""
    return ",".join(f"{LOINC}|{c}" for c in loinc_codes(category))


def ref_id(reference: Any, resource_type: str) -> str:
    """The id in ``{"reference": ".../<Type>/<id>[/_history/..]"}``, '' when it is not one."""
    ref = reference.get("reference", "") if isinstance(reference, Mapping) else ""
    if not isinstance(ref, str):
        return ""
    marker = f"{resource_type}/"
    return ref.rsplit(marker, 1)[1].split("/", 1)[0] if marker in ref else ""


def id_from_location(location: str) -> tuple[str, str]:
    """(resource type, id) from a Location / response.location (``[base/]Type/id[/_history/v]``)."""
    path = location.split("?", 1)[0].rstrip("/").split("/_history", 1)[0]
    parts = path.split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2], parts[-1]
    return "", parts[-1] if parts else ""


def identifier_token(identifier: Any) -> str | None:
    """An Identifier as ``system|value`` (``|value`` without a system); None without a value."""
    if not isinstance(identifier, Mapping) or not identifier.get("value"):
        return None
    return f"{identifier.get('system') or ''}|{identifier['value']}"


def organisation_identifier(resource: Any) -> str | None:
    """The first business identifier (``system|value``) of an Organization resource; None otherwise."""
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Organization":
        return None
    return next((t for i in resource.get("identifier") or [] if (t := identifier_token(i))), None)


def reference_identifier(reference: Any, contained: Iterable[Any] = ()) -> str | None:
    """The organisation a Reference names, as ``system|value``: its logical ``identifier``, or the
    Organization it points at among `contained` (``#id``); None when neither tells (a literal
    ``Organization/<id>`` is for the caller to read)."""
    if not isinstance(reference, Mapping):
        return None
    token = identifier_token(reference.get("identifier"))
    if token:
        return token
    target = reference.get("reference")
    if isinstance(target, str) and target.startswith("#"):
        found = next((r for r in (contained if isinstance(contained, (list, tuple)) else ())
                      if isinstance(r, Mapping) and r.get("id") == target[1:]), None)
        return organisation_identifier(found)
    return None


def document_info(resource: Mapping[str, Any]) -> DocumentInfo:
    """A DocumentReference as the contract's DocumentInfo (category from its LOINC type, custodian from
    DocumentReference.custodian: its identifier or a contained Organization; None otherwise)."""
    codes = [c.get("code") for c in (resource.get("type") or {}).get("coding", []) or [] if isinstance(c, Mapping)]
    category = next((CATEGORY_BY_LOINC[c] for c in codes if c in CATEGORY_BY_LOINC), "")
    attachment = next((c.get("attachment") or {} for c in resource.get("content", []) or []
                       if isinstance(c, Mapping)), {})
    return DocumentInfo(document_id=str(resource.get("id", "")), patient_id=ref_id(resource.get("subject"), "Patient"),
                        category=category, title=str(resource.get("description") or attachment.get("title") or ""),
                        date=str(resource.get("date", "")),
                        custodian=reference_identifier(resource.get("custodian"), resource.get("contained") or ()))


def document_custodian(document: Mapping[str, Any]) -> str | None:
    """The custodian of a FHIR document Bundle (Composition.custodian) as ``system|value``: the
    Organization it resolves to inside the Bundle, or its logical identifier; None when it names none."""
    entries = [e for e in document.get("entry", []) or [] if isinstance(e, Mapping)]
    resources = [e.get("resource") for e in entries if isinstance(e.get("resource"), Mapping)]
    composition = next((r for r in resources if r.get("resourceType") == "Composition"), None)
    reference = (composition or {}).get("custodian")
    if not isinstance(reference, Mapping):
        return None
    target = reference.get("reference")
    if isinstance(target, str) and target:
        for entry in entries:
            resource = entry.get("resource")
            if isinstance(resource, Mapping) and target in (
                    entry.get("fullUrl"), f"{resource.get('resourceType')}/{resource.get('id')}"):
                found = organisation_identifier(resource)
                if found:
                    return found
    return identifier_token(reference.get("identifier"))


def document_patient_identifiers(document: Mapping[str, Any]) -> list[str]:
    """``system|value`` identifiers of the patient a FHIR document Bundle is about (Composition.subject)."""
    entries = [e for e in document.get("entry", []) or [] if isinstance(e, Mapping)]
    resources = [e.get("resource") for e in entries if isinstance(e.get("resource"), Mapping)]
    composition = next((r for r in resources if r.get("resourceType") == "Composition"), None)
    subject = (composition or {}).get("subject") or {}
    target = subject.get("reference") if isinstance(subject, Mapping) else None
    for entry in entries:
        resource = entry.get("resource")
        if not isinstance(resource, Mapping) or resource.get("resourceType") != "Patient":
            continue
        if target and target not in (entry.get("fullUrl"), f"Patient/{resource.get('id')}"):
            continue
        return [f"{i.get('system', '')}|{i.get('value')}" for i in resource.get("identifier", []) or []
                if isinstance(i, Mapping) and i.get("value")]
    return []


def organisation_reference(identifier: str) -> dict[str, Any]:
    """A logical Reference(Organization) to ``system|value`` (e.g. DocumentReference.custodian)."""
    system, _, value = identifier.rpartition("|")
    return {"type": "Organization", "identifier": {**({"system": system} if system else {}), "value": value}}


def instant(date: str) -> str:
    """A FHIR date or dateTime as an instant (DocumentReference.date): a date alone is midnight UTC."""
    if "T" in date:
        return date
    return {4: f"{date}-01-01", 7: f"{date}-01"}.get(len(date), date) + "T00:00:00Z"


def document_reference(base: str, info: DocumentInfo) -> dict[str, Any]:
    """MHD-style DocumentReference of a stored document; attachment.url retrieves the document."""
    code = LOINC_BY_CATEGORY.get(info.category, "")
    ref: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": info.document_id,
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": code}], "text": info.category},
        "subject": {"reference": f"Patient/{info.patient_id}"},
        "content": [{"attachment": {"contentType": "application/fhir+json", "url": f"{base}/Bundle/{info.document_id}",
                                    **({"title": info.title} if info.title else {})}}],
    }
    if info.date:
        ref["date"] = instant(info.date)
    if info.title:
        ref["description"] = info.title
    if info.custodian:
        ref["custodian"] = organisation_reference(info.custodian)
    return ref


def receipt_reference(base: str, document_id: str, patient_id: str) -> dict[str, Any]:
    """What POST Bundle answers: the DocumentReference of what was filed (the receipt)."""
    return {
        "resourceType": "DocumentReference",
        "id": document_id,
        "status": "current",
        "subject": {"reference": f"Patient/{patient_id}"},
        "content": [{"attachment": {"contentType": "application/fhir+json", "url": f"{base}/Bundle/{document_id}"}}],
    }


def categories_for_type(param: str) -> set[str] | None:
    """DocumentReference?type=system|code[,system|code] -> categories; None if a token is not a known type."""
    found: set[str] = set()
    for token in param.split(","):
        system, sep, code = token.strip().rpartition("|")
        if sep and system not in ("", LOINC):
            return None
        if not sep:
            code = token.strip()
        if code not in CATEGORY_BY_LOINC:
            return None
        found.add(CATEGORY_BY_LOINC[code])
    return found


# ---- Consent <-> Restriction (Art 8) --------------------------------------------------------


class ConsentError(ValueError):
    """A Consent that cannot be read as a restriction or a consent; the message names the element."""


def consent(patient_id: str, restriction: Restriction, *, resource_id: str | None = None) -> dict[str, Any]:
    """The patient's restriction as a FHIR R4 Consent (permit overall, deny the listed data).

    Categories are denied by every LOINC document type they cover (a server that knows
    only one of them still recognises the category). UnknownCategory for other names.
    """
    deny: dict[str, Any] = {"type": "deny"}
    if restriction.document_ids:
        deny["data"] = [{"meaning": "instance", "reference": {"reference": f"DocumentReference/{d}"}}
                        for d in sorted(restriction.document_ids)]
    if restriction.categories:
        deny["code"] = [{"coding": [{"system": LOINC, "code": code} for code in loinc_codes(c)], "text": c}
                        for c in sorted(restriction.categories)]
    provision: dict[str, Any] = {"type": "permit"}
    if len(deny) > 1:
        provision["provision"] = [deny]
    return {
        "resourceType": "Consent",
        **({"id": resource_id} if resource_id else {}),
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
        "provision": provision,
    }


def restriction_from_consent(resource: Any) -> tuple[str, Restriction]:
    """(patient id, Restriction) from a Consent; ConsentError naming the element otherwise.

    Deny provisions count: ``data.reference`` (DocumentReference/<id> or Bundle/<id>)
    withholds documents, ``code`` (LOINC document types) withholds categories.
    An inactive Consent lifts every restriction.
    """
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Consent":
        raise ConsentError("Consent: the body must be a FHIR Consent resource")
    ref = (resource.get("patient") or {}).get("reference") if isinstance(resource.get("patient"), Mapping) else None
    if not isinstance(ref, str) or not ref.startswith("Patient/") or len(ref) <= len("Patient/"):
        raise ConsentError("Consent.patient: give the patient as {\"reference\": \"Patient/<id>\"}")
    patient_id = ref.removeprefix("Patient/")
    status = resource.get("status")
    if status not in ("active", "inactive", "rejected"):
        raise ConsentError("Consent.status: use 'active' (restrict) or 'inactive' (lift the restriction)")
    if status != "active":
        return patient_id, Restriction()
    documents: set[str] = set()
    categories: set[str] = set()
    for path, provision in _provisions(resource.get("provision"), "Consent.provision"):
        if provision.get("type") != "deny":
            continue
        for i, data in enumerate(_list(provision.get("data"), f"{path}.data")):
            target = (data.get("reference") or {}).get("reference") if isinstance(data, Mapping) else None
            kind, _, ident = str(target or "").partition("/")
            if kind not in ("DocumentReference", "Bundle") or not ident:
                raise ConsentError(f"{path}.data[{i}].reference: refer to a document as DocumentReference/<id>")
            documents.add(ident)
        for i, concept in enumerate(_list(provision.get("code"), f"{path}.code")):
            codes = [c.get("code") for c in _list((concept or {}).get("coding"), f"{path}.code[{i}].coding")
                     if isinstance(c, Mapping) and c.get("system") in (LOINC, None)]
            known = [CATEGORY_BY_LOINC[c] for c in codes if c in CATEGORY_BY_LOINC]
            if not known:
                raise ConsentError(f"{path}.code[{i}]: not a LOINC document type of a priority category; use one "
                                   f"of {', '.join(f'{c} ({k})' for c, k in LOINC_BY_CATEGORY.items())}")
            categories.update(known)
    return patient_id, Restriction(frozenset(documents), frozenset(categories))


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConsentError(f"{path}: must be a JSON array")
    return value


def _provisions(provision: Any, path: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    if provision is None:
        return
    if not isinstance(provision, Mapping):
        raise ConsentError(f"{path}: must be a JSON object")
    yield path, provision
    for i, child in enumerate(_list(provision.get("provision"), f"{path}.provision")):
        yield from _provisions(child, f"{path}.provision[{i}]")


# ---- Consent <-> the patient's consent to an access for a purpose (national rules) ------------
#
# The same FHIR resource type carries two different things, told apart by ``provision.purpose``:
# a restriction (Art 8, above) never has one; a consent to an access for a purpose (the contract's
# record_consent / withdraw_consent, capability ``consent``) names exactly one.
#
# Mapping (FHIR R4 Consent):
# - ``status``: ``active`` while in force, ``inactive`` once withdrawn (the record is kept);
# - ``scope``: consentscope ``patient-privacy``; ``category``: LOINC 59284-0 Patient Consent;
#   ``policyRule``: v3-ActCode ``OPTIN``;
# - ``patient``: ``Patient/<id>``; ``dateTime``: when it was recorded; ``performer``: who recorded it
#   (``identifier`` system|value) - both set by the server, never taken from a request;
# - ``provision.type`` ``permit``; ``provision.purpose``: one Coding, the purpose code (system
#   :data:`PURPOSE_SYSTEM` for the harness's codes); ``provision.actor`` (role v3-ParticipationType
#   ``IRCP``, the information recipient) with ``reference.identifier``: the one professional it lets
#   in, absent when any health professional may access.
#
# The purpose-bound read (the contract's fetch_for_purpose) carries the purpose code in the request
# header :data:`PURPOSE_HEADER` (percent-encoded UTF-8), like the emergency purpose.

#: Code system of the harness's access purposes (e.g. ``cross-border-care``); not an official one.
PURPOSE_SYSTEM = "https://ehds-conformance.invalid/CodeSystem/access-purpose"
#: Request header of a document read subject to consent: the purpose code, percent-encoded UTF-8.
PURPOSE_HEADER = "X-Purpose-Of-Use"
#: Request header of an Art 11(5) emergency access: the stated purpose, percent-encoded UTF-8. Present = emergency.
EMERGENCY_HEADER = "X-Emergency-Access-Purpose"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_CONSENT_SCOPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]}
_CONSENT_CATEGORY = [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}]
_RECIPIENT = {"coding": [{"system": PARTICIPATION_TYPE, "code": "IRCP", "display": "information recipient"}]}


def is_access_consent(resource: Any) -> bool:
    """Whether a Consent is a consent to an access for a purpose (it has ``provision.purpose``), not an
    Art 8 restriction."""
    if not isinstance(resource, Mapping):
        return False
    provision = resource.get("provision")
    return isinstance(provision, Mapping) and provision.get("purpose") is not None


def _identifier(system_value: str) -> dict[str, str]:
    system, sep, value = system_value.rpartition("|")
    return {"system": system, "value": value} if sep and system else {"value": value if sep else system_value}


def _system_value(identifier: Mapping[str, Any]) -> str:
    value = str(identifier.get("value", ""))
    return f"{identifier['system']}|{value}" if identifier.get("system") else value


def access_consent_request(patient_id: str, consent: Consent) -> dict[str, Any]:
    """The Consent a client POSTs to record ``consent`` for the patient (no id, no who/when: the server
    records those)."""
    provision: dict[str, Any] = {"type": "permit", "purpose": [{"system": PURPOSE_SYSTEM, "code": consent.purpose}]}
    if consent.grantee:
        provision["actor"] = [{"role": _RECIPIENT, "reference": {"identifier": _identifier(consent.grantee)}}]
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": _CONSENT_SCOPE,
        "category": _CONSENT_CATEGORY,
        "patient": {"reference": f"Patient/{patient_id}"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": provision,
    }


def access_consent(record: ConsentRecord) -> dict[str, Any]:
    """A recorded consent as the FHIR Consent the server answers (id, status, who and when)."""
    resource = {"resourceType": "Consent", "id": record.consent_id,
                **access_consent_request(record.patient_id, record.consent)}
    resource["status"] = "active" if record.active else "inactive"
    if record.recorded:
        resource["dateTime"] = record.recorded
    if record.recorded_by:
        resource["performer"] = [{"identifier": _identifier(record.recorded_by)}]
    return resource


def consent_record(resource: Any) -> ConsentRecord:
    """A Consent to an access for a purpose read back as the contract's :class:`ConsentRecord`.

    ConsentError names the element and the fix. ``consent_id``, ``recorded`` and ``recorded_by`` are
    '' when the resource does not carry them (a request body).
    """
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Consent":
        raise ConsentError("Consent: the body must be a FHIR Consent resource")
    patient_id = ref_id(resource.get("patient"), "Patient")
    if not patient_id:
        raise ConsentError("Consent.patient: give the patient as {\"reference\": \"Patient/<id>\"}")
    status = resource.get("status")
    if status not in ("active", "inactive"):
        raise ConsentError(f"Consent.status: {status!r}; use 'active' (in force) or 'inactive' (withdrawn)")
    provision = resource.get("provision")
    if not isinstance(provision, Mapping):
        raise ConsentError("Consent.provision: must be a JSON object with type 'permit' and one purpose")
    if provision.get("type", "permit") != "permit":
        raise ConsentError("Consent.provision.type: a consent to an access is a 'permit' (a 'deny' is a "
                           "restriction, which names no purpose)")
    purposes = _list(provision.get("purpose"), "Consent.provision.purpose")
    codes = [p.get("code") for p in purposes if isinstance(p, Mapping)]
    if len(purposes) != 1 or not isinstance(codes[0] if codes else None, str) or not codes[0].strip():
        raise ConsentError("Consent.provision.purpose: name exactly one purpose, as a Coding "
                           f"{{\"system\": \"{PURPOSE_SYSTEM}\", \"code\": \"<purpose>\"}}")
    grantees = []
    for i, actor in enumerate(_list(provision.get("actor"), "Consent.provision.actor")):
        path = f"Consent.provision.actor[{i}]"
        role = actor.get("role") if isinstance(actor, Mapping) else None
        roles = [c.get("code") for c in _list((role or {}).get("coding") if isinstance(role, Mapping) else None,
                                              f"{path}.role.coding") if isinstance(c, Mapping)]
        if "IRCP" not in roles:
            raise ConsentError(f"{path}.role: use {PARTICIPATION_TYPE}|IRCP (the professional the consent lets in)")
        reference = actor.get("reference") if isinstance(actor, Mapping) else None
        identifier = reference.get("identifier") if isinstance(reference, Mapping) else None
        if not isinstance(identifier, Mapping) or not isinstance(identifier.get("value"), str) \
                or not identifier["value"]:
            raise ConsentError(f"{path}.reference.identifier: give the professional's business identifier "
                               "{\"system\": ..., \"value\": ...}")
        grantees.append(_system_value(identifier))
    if len(grantees) > 1:
        raise ConsentError("Consent.provision.actor: name at most one professional (none: any professional); "
                           "record one consent per professional")
    performer = next((p.get("identifier") for p in _list(resource.get("performer"), "Consent.performer")
                      if isinstance(p, Mapping) and isinstance(p.get("identifier"), Mapping)), None)
    return ConsentRecord(
        consent_id=str(resource.get("id") or ""), patient_id=patient_id,
        consent=Consent(codes[0], grantees[0] if grantees else ""),
        recorded_by=_system_value(performer) if performer else "",
        recorded=str(resource.get("dateTime") or ""), active=status == "active")
