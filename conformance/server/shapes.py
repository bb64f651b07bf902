"""FHIR R4 shapes the server answers with, and the Consent <-> Restriction mapping.

Pure functions from the service's answers (DocumentInfo, Restriction, AuditEvents)
to FHIR resources and back; no HTTP and no EHR rules here, so the routes stay a
thin translation and the mapping can be read (and tested) on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conformance.adapter import PRIORITY_CATEGORIES, Capability, DocumentInfo, Restriction
from conformance.adapters.reference import intake

LOINC = intake.LOINC
#: LOINC document type -> category (every code the EHR files under a category)
CATEGORY_BY_LOINC: dict[str, str] = dict(intake.CATEGORY_BY_LOINC)
#: category -> the LOINC code the server uses to name it
LOINC_BY_CATEGORY: dict[str, str] = dict(intake.LOINC_BY_CATEGORY)


#: Header carrying the Art 11(5) emergency purpose (percent-encoded UTF-8). Present = emergency access.
EMERGENCY_HEADER = "X-Emergency-Access-Purpose"

#: Implementation guides whose profiles the reference EHR's documents and log follow.
IMPLEMENTATION_GUIDES = (
    "http://hl7.org/fhir/uv/ips/ImplementationGuide/hl7.fhir.uv.ips|2.0.0",
    "https://profiles.ihe.net/ITI/BALP/ImplementationGuide/ihe.iti.balp",
    "https://ehds-conformance.invalid/fhir/ehds-minimal/ImplementationGuide/ehds.conformance.minimal|0.1.0",
)
#: The EU Health Data API roles the server plays.
INSTANTIATES = (
    "http://hl7.eu/fhir/health-data-api/CapabilityStatement/EEHRxF-DocumentAccessProvider",
    "http://hl7.eu/fhir/health-data-api/CapabilityStatement/EEHRxF-DocumentConsumer",
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---- OperationOutcome ---------------------------------------------------------------------


def outcome(code: str, message: str, *, severity: str = "error",
            issues: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """An OperationOutcome with one summary issue and, optionally, per-location issues."""
    out = [{"severity": severity, "code": code, "diagnostics": message}]
    for issue in issues[:50]:
        item: dict[str, Any] = {"severity": issue.get("severity", "error"), "code": issue.get("code", "invalid"),
                                "diagnostics": str(issue.get("message", ""))}
        if issue.get("location"):
            item["expression"] = [str(issue["location"])]
        out.append(item)
    return {"resourceType": "OperationOutcome", "issue": out}


# ---- searchsets ----------------------------------------------------------------------------


def searchset(base: str, resources: Iterable[Mapping[str, Any]], *, self_url: str, total: int | None = None,
              next_url: str | None = None) -> dict[str, Any]:
    entries = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": dict(r),
                "search": {"mode": "match"}} for r in resources]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                              "total": len(entries) if total is None else total,
                              "link": [{"relation": "self", "url": self_url}]}
    if next_url:
        bundle["link"].append({"relation": "next", "url": next_url})
    if entries:
        bundle["entry"] = entries
    return bundle


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
        ref["date"] = info.date if "T" in info.date else info.date + "T00:00:00Z"
    if info.title:
        ref["description"] = info.title
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
    """A Consent the server cannot turn into a restriction; message names the element."""


def consent(patient_id: str, restriction: Restriction) -> dict[str, Any]:
    """The patient's restriction as a FHIR R4 Consent (permit overall, deny the listed data)."""
    deny: dict[str, Any] = {"type": "deny"}
    if restriction.document_ids:
        deny["data"] = [{"meaning": "instance", "reference": {"reference": f"DocumentReference/{d}"}}
                        for d in sorted(restriction.document_ids)]
    if restriction.categories:
        deny["code"] = [{"coding": [{"system": LOINC, "code": LOINC_BY_CATEGORY[c]}], "text": c}
                        for c in sorted(restriction.categories)]
    provision: dict[str, Any] = {"type": "permit"}
    if len(deny) > 1:
        provision["provision"] = [deny]
    return {
        "resourceType": "Consent",
        "id": f"restriction-{patient_id}",
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


# ---- discovery --------------------------------------------------------------------------------


def capability_statement(*, fhir_base: str, token_endpoint: str, authorize_endpoint: str, product: str,
                         version: str, vendor: str, capabilities: Iterable[Capability],
                         produces: Iterable[str], consumes: Iterable[str]) -> dict[str, Any]:
    """GET /metadata: what the server does, which IGs it follows, how to get a token."""
    search_doc = [{"name": "patient", "type": "reference"}, {"name": "type", "type": "token"}]
    resources = [
        {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
         "searchParam": [{"name": "identifier", "type": "token"}],
         "operation": [{"name": "summary", "definition": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"}]},
        {"type": "DocumentReference", "interaction": [{"code": "search-type"}], "searchParam": search_doc},
        {"type": "Bundle", "interaction": [{"code": "read"}, {"code": "create"}],
         "documentation": "POST a FHIR document Bundle to file it; GET Bundle/<id> retrieves a stored document "
                          "(DocumentReference.content.attachment.url)."},
        {"type": "Binary", "interaction": [{"code": "create"}],
         "documentation": "POST a CDA document (Content-Type application/cda+xml) to file it."},
        {"type": "AuditEvent", "interaction": [{"code": "search-type"}],
         "documentation": "The access log (IHE BALP). Read-only: update and delete are refused.",
         "searchParam": [{"name": "patient", "type": "reference"}, {"name": "date", "type": "date"},
                         {"name": "agent", "type": "reference"}, {"name": "_count", "type": "number"}]},
        {"type": "Consent", "interaction": [{"code": "create"}, {"code": "search-type"}],
         "documentation": "The patient's restriction of access (Art 8): deny provisions list documents "
                          "(data.reference) and categories (code, LOINC document types).",
         "searchParam": [{"name": "patient", "type": "reference"}]},
    ]
    offered = ", ".join(sorted(c.value for c in capabilities))
    return {
        "resourceType": "CapabilityStatement",
        "id": "reference-ehr",
        "status": "active",
        "date": _now(),
        "publisher": vendor,
        "kind": "instance",
        "instantiates": list(INSTANTIATES),
        "software": {"name": product, "version": version},
        "implementation": {"description": f"{product} (FHIR R4 server). EHDS capabilities: {offered}. Priority "
                                          f"categories produced: {', '.join(sorted(produces))}; consumed: "
                                          f"{', '.join(sorted(consumes))}.", "url": fhir_base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "implementationGuide": list(IMPLEMENTATION_GUIDES),
        "rest": [{
            "mode": "server",
            "documentation": f"Emergency access (Art 11(5)): send the stated purpose in the {EMERGENCY_HEADER} "
                             "request header (percent-encoded UTF-8).",
            "security": {
                "cors": False,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "SMART-on-FHIR"}]}],
                "description": "SMART Backend Services (client_credentials with private_key_jwt, RS384/ES384) and "
                               "an OpenID Connect login (authorization code + PKCE) for health professionals and "
                               f"patients, discovered at {fhir_base}/.well-known/smart-configuration (token endpoint "
                               f"{token_endpoint}, authorization endpoint {authorize_endpoint}). Bearer tokens are "
                               "checked on every request.",
            },
            "resource": resources,
        }],
    }


def smart_configuration(*, issuer: str, token_endpoint: str, authorize_endpoint: str, jwks_uri: str,
                        scopes: Iterable[str]) -> dict[str, Any]:
    """[base]/.well-known/smart-configuration (SMART App Launch 2.x / Backend Services)."""
    return {
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "token_endpoint": token_endpoint,
        "authorization_endpoint": authorize_endpoint,
        "grant_types_supported": ["client_credentials", "authorization_code"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "scopes_supported": sorted(set(scopes)),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["client-confidential-asymmetric", "permission-v2", "permission-v1", "sso-openid-connect",
                         "context-standalone-patient"],
    }


def openid_configuration(*, issuer: str, token_endpoint: str, authorize_endpoint: str, jwks_uri: str,
                         scopes: Iterable[str]) -> dict[str, Any]:
    """<issuer>/.well-known/openid-configuration (the OIDC login of persons)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": authorize_endpoint,
        "token_endpoint": token_endpoint,
        "userinfo_endpoint": issuer + "/userinfo",
        "jwks_uri": jwks_uri,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES384"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": sorted(set(scopes) | {"openid"}),
        "claims_supported": ["sub", "name", "SubjectNameID", "SubjectOrganization", "SubjectOrganizationId",
                             "SubjectRefPro", "patient"],
    }


__all__ = ["EMERGENCY_HEADER", "PRIORITY_CATEGORIES", "capability_statement", "consent", "outcome",
           "restriction_from_consent", "searchset", "smart_configuration"]
