"""Reading documents back (checks and strategies): resources, the Composition, references; fresh
ids for a document (:func:`rekey`, :func:`for_patient`); the profile a category is checked against.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from typing import Any

from conformance.documents.common import CATEGORY_PROFILES, ID_NAMESPACE, identifier, narrative
from conformance.documents.frame import check_category, summary_text
from conformance.documents.identity import PatientIdentity
from conformance.errors import UsageError

# ---- reading documents back (used by checks and strategies) -------------------------

def resources(bundle: dict[str, Any], resource_type: str | None = None) -> list[dict[str, Any]]:
    """The resources in a Bundle, optionally of one type, in entry order."""
    out = []
    for entry in bundle.get("entry") or []:
        res = entry.get("resource") or {}
        if resource_type is None or res.get("resourceType") == resource_type:
            out.append(res)
    return out


def composition(bundle: dict[str, Any]) -> dict[str, Any]:
    """The document's Composition (first entry); {} if absent."""
    found = resources(bundle, "Composition")
    return found[0] if found else {}


def resolve(bundle: dict[str, Any], reference: str, base_entry: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Resolve a reference inside a document Bundle (urn:uuid fullUrl or Type/id), None if it dangles."""
    for entry in bundle.get("entry") or []:
        res = entry.get("resource") or {}
        if entry.get("fullUrl") == reference:
            return res
        if res.get("id") and f"{res.get('resourceType')}/{res.get('id')}" == reference:
            return res
        full = entry.get("fullUrl") or ""
        if full.endswith("/" + reference):
            return res
    return None


# ---- re-keying: fresh ids for a document, deterministically ---------------------------

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DICOM_RE = re.compile(r"2\.25\.(\d{10,40})")


def content_digest(data: Any) -> str:
    """sha256 of canonical JSON (sorted keys): the same content gives the same digest."""
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()


def rekey(bundle: dict[str, Any], salt: str) -> dict[str, Any]:
    """A copy of ``bundle`` whose UUIDs (fullUrls, ids, identifiers) and DICOM 2.25 UIDs are replaced
    by ones derived from ``salt`` and the old value. References stay consistent because every
    occurrence of a value maps to the same new value; different salts give disjoint ids."""
    text = json.dumps(bundle, ensure_ascii=False)
    text = _UUID_RE.sub(lambda m: str(uuid.uuid5(ID_NAMESPACE, f"{salt}|{m.group(0)}")), text)
    text = _DICOM_RE.sub(lambda m: f"2.25.{uuid.uuid5(ID_NAMESPACE, f'{salt}|{m.group(1)}').int}", text)
    return json.loads(text)


def for_patient(bundle: dict[str, Any], patient: PatientIdentity) -> dict[str, Any]:
    """The same document about ``patient``: the Patient entry gets the patient's identity, and all
    ids are re-keyed from the patient identifier and the document content, so documents made for
    different patients (or with different content) never share a resource id."""
    if not isinstance(patient, PatientIdentity):
        raise UsageError(f"for_patient() needs a PatientIdentity, got {type(patient).__name__}")
    out = rekey(bundle, f"{patient.identifier}|{content_digest(bundle)}")
    subject = (composition(out).get("subject") or {}).get("reference")
    for entry in out.get("entry") or []:
        res = entry.get("resource") or {}
        if res.get("resourceType") == "Patient" and (subject is None or entry.get("fullUrl") == subject):
            res["identifier"] = [identifier(patient.identifier)] + [
                i for i in res.get("identifier", [])[1:] if isinstance(i, dict)]
            res["name"] = [{"family": patient.family, "given": [patient.given]}]
            res["gender"] = patient.gender
            res["birthDate"] = patient.birth_date
            if "text" in res:
                res["text"] = narrative(summary_text(res))
    return out


# ---- which profile a category is checked against -------------------------------------

PROFILE_ENV_PREFIX = "EHDS_CONFORMANCE_PROFILE_"


def profile_for(category: str) -> str:
    """The Bundle profile a category's documents are checked against: the built-in one, or the one
    named in ``EHDS_CONFORMANCE_PROFILE_<CATEGORY>`` (e.g. an official HL7 Europe profile the user
    installed with ``conformance packages add``)."""
    check_category(category)
    env = PROFILE_ENV_PREFIX + category.upper().replace("-", "_")
    return os.environ.get(env) or CATEGORY_PROFILES[category]
