"""Known constructions for invariants a blind walk of a snapshot cannot satisfy.

Why: FHIRPath invariants are arbitrary expressions; ``from_profile`` does not solve them.
Most hold by luck or never apply, but a few (``ait-1``: clinicalStatus required unless
entered-in-error; a DICOM study UID) fail for almost every walked instance, and filtering
nearly everything is no generator at all. For those, a repair makes the one change the
invariant asks for. An instance still failing after its repairs is filtered, never faked.
Keys are invariant keys; a repair edits the failing resource in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

Repair = Callable[[dict[str, Any]], None]

_CLINICAL = {
    "AllergyIntolerance": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
    "Condition": "http://terminology.hl7.org/CodeSystem/condition-clinical",
}
_VERIFICATION = {
    "AllergyIntolerance": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
    "Condition": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
}


def _active_status(res: dict[str, Any]) -> None:
    rt = res.get("resourceType", "")
    res["clinicalStatus"] = {"coding": [{"system": _CLINICAL[rt], "code": "active"}]}
    res["verificationStatus"] = {"coding": [{"system": _VERIFICATION[rt], "code": "confirmed"}]}
    for key in [k for k in res if k.startswith("abatement")]:
        del res[key]


def _drop(*names: str) -> Repair:
    def repair(res: dict[str, Any]) -> None:
        for key in [k for k in res if any(k == n or (k.startswith(n) and k[len(n):][:1].isupper()) for n in names)]:
            del res[key]
    return repair


def _name_part(res: dict[str, Any]) -> None:
    for name in res.get("name") or []:
        if isinstance(name, dict) and not (name.get("family") or name.get("given") or name.get("text")):
            name["family"] = "Example"


def _value_present(res: dict[str, Any]) -> None:
    if not any(k.startswith("value") for k in res):
        res["valueString"] = "result text"
    res.pop("dataAbsentReason", None)


def _dicom_uid(res: dict[str, Any]) -> None:
    seed = str(res.get("id", "")) + str(res.get("identifier", ""))
    uid = uuid.uuid5(uuid.NAMESPACE_OID, seed).int
    res.setdefault("identifier", []).insert(0, {"system": "urn:dicom:uid", "value": f"urn:oid:2.25.{uid}"})


def _stage(res: dict[str, Any]) -> None:
    for stage in res.get("stage") or []:
        if isinstance(stage, dict) and not (stage.get("summary") or stage.get("assessment")):
            stage["summary"] = {"text": "stage"}


def _evidence(res: dict[str, Any]) -> None:
    for ev in res.get("evidence") or []:
        if isinstance(ev, dict) and not (ev.get("code") or ev.get("detail")):
            ev["code"] = [{"text": "evidence"}]


def _section_empty_reason(res: dict[str, Any]) -> None:
    for section in res.get("section") or []:
        if isinstance(section, dict) and not section.get("entry") and not section.get("emptyReason"):
            section["emptyReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                                  "code": "unavailable"}]}


def _section_entries_xor_empty(res: dict[str, Any]) -> None:
    for section in res.get("section") or []:
        if isinstance(section, dict) and section.get("entry"):
            section.pop("emptyReason", None)


def _component_values(res: dict[str, Any]) -> None:
    for comp in res.get("component") or []:
        if isinstance(comp, dict) and not any(k.startswith("value") or k == "dataAbsentReason" for k in comp):
            comp["valueString"] = "component result"


REPAIRS: dict[str, Repair] = {
    "ips-2": _value_present,
    "ips-3": _component_values,
    "ips-comp-1": _section_empty_reason,
    "cmp-2": _section_entries_xor_empty,
    "ait-1": _active_status,
    "ait-2": _active_status,
    "con-4": _drop("abatement"),
    "con-5": _active_status,
    "con-1": _stage,
    "con-2": _evidence,
    "ips-pat-1": _name_part,
    "pat-1": _drop("contact"),
    "obs-6": _drop("dataAbsentReason"),
    "obs-7": _drop("component"),
    "ehds-lab-obs-1": _value_present,
    "mdd-1": _drop("whenPrepared"),
    "ehds-img-study-1": _dicom_uid,
    "per-1": _drop("period"),
    "obs-3": _drop("referenceRange"),
}


def resource_at(instance: dict[str, Any], location: str) -> dict[str, Any]:
    """The resource an issue location points into (the instance itself for a standalone resource)."""
    return instance
