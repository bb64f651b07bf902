"""FHIR R4 shapes the server answers with (OperationOutcome, searchsets, discovery documents).

Pure functions; no HTTP and no EHR rules here. The contract <-> FHIR mapping
(restriction <-> Consent, the patient's consent <-> Consent, document <-> DocumentReference)
lives in :mod:`conformance.fhirmap`, shared with the ``fhir`` adapter so both sides map alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conformance.adapter import PRIORITY_CATEGORIES, Capability
from conformance.fhirmap import (  # noqa: F401 - the contract <-> FHIR mapping, shared with the fhir adapter
    CATEGORY_BY_LOINC,
    EMERGENCY_HEADER,
    LOINC,
    LOINC_BY_CATEGORY,
    PURPOSE_HEADER,
    ConsentError,
    access_consent,
    categories_for_type,
    consent,
    consent_record,
    document_reference,
    is_access_consent,
    receipt_reference,
    restriction_from_consent,
)

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
        {"type": "Consent", "interaction": [{"code": "create"}, {"code": "read"}, {"code": "update"},
                                            {"code": "delete"}, {"code": "search-type"}],
         "documentation": "Two kinds. The patient's restriction of access (Art 8), no provision.purpose: deny "
                          "provisions list documents (data.reference) and categories (code, LOINC document types); "
                          "one per patient, id restriction-<patient id>. The patient's consent to an access for a "
                          "purpose: provision.type permit, exactly one provision.purpose, optionally one "
                          "provision.actor (role v3-ParticipationType IRCP, reference.identifier: the professional "
                          "it lets in); the server records who (performer) and when (dateTime). Withdraw it with "
                          "PUT status 'inactive' or DELETE: the record is kept, status inactive. Reads subject to "
                          f"consent send the purpose code in the {PURPOSE_HEADER} request header.",
         "searchParam": [{"name": "patient", "type": "reference"}, {"name": "status", "type": "token"},
                         {"name": "purpose", "type": "token"}]},
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
                             "request header (percent-encoded UTF-8). An access subject to the patient's consent "
                             f"(e.g. cross-border care): send the purpose code in the {PURPOSE_HEADER} request "
                             "header (percent-encoded) on Patient/<id>/$summary or Bundle/<id>; it is served only "
                             "under a Consent in force for that purpose covering the professional, and logged "
                             "either way (an allowed access refers to the Consent).",
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


__all__ = ["EMERGENCY_HEADER", "PRIORITY_CATEGORIES", "PURPOSE_HEADER", "access_consent", "capability_statement",
           "consent", "consent_record", "is_access_consent", "outcome", "restriction_from_consent", "searchset",
           "smart_configuration"]
