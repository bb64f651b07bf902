"""Reading Annex II 3.2 content out of FHIR R4 AuditEvents (IHE BALP shape).

Annex II 3.2 asks for (a) the provider on whose behalf access happened, (b) the
natural person, (c) the categories of data, (d) date and time, (e) the origin(s)
of the data; Art 9 needs the patient. No FHIR element is mandated yet for (c)
and (e), so this module accepts the documented shapes and nothing vaguer:

- organisation: an agent whose ``type`` or ``role`` is v3-RoleClass PROV/ORG or whose
  ``who`` identifies an Organization; its identifier value is compared.
- person: an agent with ``requestor = true`` whose ``who.identifier`` is a person's
  identifier (not an Organization or Device reference).
- category: ``entity.detail`` with type ``ehds-priority-category`` and the category as
  value, or a LOINC document-type code of the category anywhere in an entity.
- time: ``recorded``, an instant with a time-zone offset.
- origin: an entity (not the patient) whose ``what.identifier`` is the custodian
  organisation of the data served.
- patient: an entity of type 1 (Person) / role 1 (Patient), or a ``what`` referencing
  ``Patient/...``, whose identifier or reference matches.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Iterable, Iterator

from conformance.categories import CATEGORY_LOINC  # noqa: E402  (re-exported: the one table)

CATEGORY_DETAIL_TYPE = "ehds-priority-category"
EMERGENCY_CODES = frozenset({"BTG", "ETREAT"})
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def identifier_value(identifier: str) -> str:
    """'system|value' -> 'value' (a bare value stays as it is)."""
    return identifier.split("|", 1)[1] if "|" in identifier else identifier


def _codes(concepts: Iterable[Any]) -> Iterator[str]:
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        if "code" in concept:
            yield str(concept["code"])
        for coding in concept.get("coding", []) or []:
            if isinstance(coding, dict) and "code" in coding:
                yield str(coding["code"])


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _who_identifier(ref: Any) -> str:
    if isinstance(ref, dict):
        ident = ref.get("identifier")
        if isinstance(ident, dict):
            return str(ident.get("value", ""))
    return ""


def organisation_ids(event: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for agent in _as_list(event.get("agent")):
        if not isinstance(agent, dict):
            continue
        who = agent.get("who") or {}
        codes = set(_codes(_as_list(agent.get("type")))) | set(_codes(_as_list(agent.get("role"))))
        is_org = bool(codes & {"PROV", "ORG", "110150"}) or str(who.get("type", "")) == "Organization" or \
            str(who.get("reference", "")).startswith("Organization/")
        if is_org and _who_identifier(who):
            out.add(_who_identifier(who))
    return out


def person_ids(event: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for agent in _as_list(event.get("agent")):
        if not isinstance(agent, dict) or agent.get("requestor") is not True:
            continue
        who = agent.get("who") or {}
        ref = str(who.get("reference", ""))
        if who.get("type") in ("Organization", "Device") or ref.startswith(("Organization/", "Device/")):
            continue
        if _who_identifier(who):
            out.add(_who_identifier(who))
    return out


def categories(event: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    loinc_to_cat = {code: cat for cat, codes in CATEGORY_LOINC.items() for code in codes}
    for entity in _as_list(event.get("entity")):
        if not isinstance(entity, dict):
            continue
        for detail in _as_list(entity.get("detail")):
            if isinstance(detail, dict) and detail.get("type") == CATEGORY_DETAIL_TYPE:
                value = detail.get("valueString")
                if value:
                    out.add(str(value))
        codes = set(_codes(_as_list(entity.get("type")))) | set(_codes(_as_list(entity.get("role"))))
        codes |= set(_codes(_as_list(entity.get("securityLabel"))))
        out |= {loinc_to_cat[c] for c in codes if c in loinc_to_cat}
    return out


def recorded(event: dict[str, Any]) -> _dt.datetime | None:
    """The access time, or None when absent or without a time-zone offset."""
    value = event.get("recorded")
    if not isinstance(value, str) or not _INSTANT.match(value):
        return None
    try:
        return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_patient_entity(entity: dict[str, Any]) -> bool:
    type_codes = set(_codes(_as_list(entity.get("type"))))
    role_codes = set(_codes(_as_list(entity.get("role"))))
    what = entity.get("what") or {}
    return ("1" in type_codes and "1" in role_codes) or str(what.get("reference", "")).startswith("Patient/") \
        or what.get("type") == "Patient"


def patient_refs(event: dict[str, Any]) -> set[str]:
    """Patient identifier values and 'Patient/<id>' references the event names."""
    out: set[str] = set()
    for entity in _as_list(event.get("entity")):
        if isinstance(entity, dict) and _is_patient_entity(entity):
            what = entity.get("what") or {}
            if what.get("reference"):
                out.add(str(what["reference"]))
            if _who_identifier(what):
                out.add(_who_identifier(what))
    return out


def origin_ids(event: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for entity in _as_list(event.get("entity")):
        if isinstance(entity, dict) and not _is_patient_entity(entity):
            ident = _who_identifier(entity.get("what") or {})
            if ident:
                out.add(ident)
    return out


def purposes(event: dict[str, Any]) -> set[str]:
    codes = set(_codes(_as_list(event.get("purposeOfEvent"))))
    for agent in _as_list(event.get("agent")):
        if isinstance(agent, dict):
            codes |= set(_codes(_as_list(agent.get("purposeOfUse"))))
    return codes


def is_emergency(event: dict[str, Any]) -> bool:
    return bool(purposes(event) & EMERGENCY_CODES)


def entry_key(event: dict[str, Any]) -> str:
    """A stable key to tell entries apart across two reads of the log."""
    if event.get("id"):
        return "id:" + str(event["id"])
    import hashlib

    import orjson

    return "sha:" + hashlib.sha256(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()


def new_entries(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {entry_key(e) for e in before}
    return [e for e in after if entry_key(e) not in seen]


def bundle_custodians(bundle: dict[str, Any]) -> set[str]:
    """Identifier values of the custodian (origin) organisation of a document Bundle."""
    entries = [e.get("resource", {}) for e in bundle.get("entry", []) if isinstance(e, dict)]
    by_url = {e.get("fullUrl"): e.get("resource", {}) for e in bundle.get("entry", []) if isinstance(e, dict)}
    out: set[str] = set()
    for res in entries:
        if res.get("resourceType") != "Composition":
            continue
        ref = (res.get("custodian") or {}).get("reference", "")
        target = by_url.get(ref) or next(
            (r for r in entries if f"{r.get('resourceType')}/{r.get('id')}" == ref), None)
        for ident in _as_list((target or {}).get("identifier")):
            if isinstance(ident, dict) and ident.get("value"):
                out.add(str(ident["value"]))
        if _who_identifier(res.get("custodian") or {}):
            out.add(_who_identifier(res["custodian"]))
        break
    return out
