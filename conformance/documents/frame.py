"""What every generated document shares: choices, ids, the document frame, its Composition.

Why: builders make every choice through a :class:`Chooser` (a seeded ``random.Random`` for
:func:`conformance.documents.valid_document`, hypothesis for the strategies), so both drivers
produce the same shapes; the :class:`Frame` holds the patient, author, custodian, clock and the
entries; :func:`finish_document` turns it into a document Bundle of the category's profile.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, TypeVar

from conformance.categories import category as lookup_category
from conformance.documents.common import (
    ATC,
    CATEGORY_PROFILES,
    CATEGORY_TYPES,
    EDQM,
    ID_NAMESPACE,
    LOINC,
    ORGANISATION_ID_SYSTEM,
    ORGANISATIONS,
    PRACTITIONER_ID_SYSTEM,
    PRACTITIONERS,
    RFC3986,
    UCUM,
    coding,
    concept,
    identifier,
    narrative,
    ref,
)
from conformance.documents.identity import PatientIdentity
from conformance.errors import UsageError

T = TypeVar("T")

# ---- choices: one interface for random.Random and hypothesis -------------------------

class Chooser(Protocol):
    """The only way builders make choices. Options are listed simplest first (hypothesis
    shrinks towards the first option and the lowest integer)."""

    def choice(self, options: Sequence[T]) -> T: ...

    def integer(self, low: int, high: int) -> int: ...

    def boolean(self) -> bool: ...


class RandomChooser:
    """Chooser over a seeded ``random.Random`` (deterministic for a seed)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def boolean(self) -> bool:
        return self.rng.random() < 0.5


class Ids:
    """Deterministic, document-unique UUIDs: uuid5 of a namespace (patient + category + seed)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.n = 0

    def new(self) -> str:
        self.n += 1
        return str(uuid.uuid5(ID_NAMESPACE, f"{self.namespace}#{self.n}"))

    def oid(self) -> str:
        """A DICOM-style UID (2.25 arc = UUID as integer)."""
        return f"2.25.{uuid.UUID(self.new()).int}"



# ---- the shared document frame -------------------------------------------------------

@dataclass
class Frame:
    """What every document has: ids, patient, author, custodian, clock, and the entry list."""

    category: str
    ids: Ids
    chooser: Chooser
    patient: PatientIdentity
    day: date
    entries: list[dict[str, Any]]
    patient_url: str = ""
    author_url: str = ""
    org_url: str = ""
    author_name: str = ""
    org_name: str = ""

    def add(self, resource: dict[str, Any], url: str | None = None) -> str:
        full_url = url or f"urn:uuid:{self.ids.new()}"
        resource.setdefault("id", full_url.rsplit(":", 1)[-1])
        self.entries.append({"fullUrl": full_url, "resource": resource})
        return full_url

    def instant(self, hour: int = 10, minute: int = 30) -> str:
        return f"{self.day.isoformat()}T{hour:02d}:{minute:02d}:00+01:00"

    def earlier(self, days: int) -> date:
        return self.day - timedelta(days=days)


def start_document(category: str, patient: PatientIdentity, chooser: Chooser, namespace: str) -> Frame:
    ids = Ids(f"{patient.identifier}|{category}|{namespace}")
    day = date(2024, 1, 1) + timedelta(days=chooser.integer(0, 700))
    frame = Frame(category, ids, chooser, patient, day, [])
    frame.entries.append({})  # placeholder: the Composition goes first (bdl-11)
    frame.patient_url = frame.add({
        "resourceType": "Patient",
        "identifier": [identifier(patient.identifier)],
        "name": [{"family": patient.family, "given": [patient.given]}],
        "gender": patient.gender,
        "birthDate": patient.birth_date,
    })
    family, given = chooser.choice(PRACTITIONERS)
    frame.author_name = f"{given} {family}"
    frame.author_url = frame.add({
        "resourceType": "Practitioner",
        "identifier": [{"system": PRACTITIONER_ID_SYSTEM, "value": f"HP-{frame.ids.new()[:8]}"}],
        "name": [{"family": family, "given": [given]}],
    })
    frame.org_name = chooser.choice(ORGANISATIONS)
    frame.org_url = frame.add({
        "resourceType": "Organization",
        "identifier": [{"system": ORGANISATION_ID_SYSTEM, "value": f"ORG-{frame.ids.new()[:8]}"}],
        "name": frame.org_name,
    })
    return frame


def summary_text(resource: dict[str, Any]) -> str:
    """One line saying what a resource is, for its generated narrative (dom-6: resources carry text)."""
    rtype = resource.get("resourceType", "Resource")
    if rtype in ("Patient", "Practitioner"):
        name = (resource.get("name") or [{}])[0]
        who = " ".join([*name.get("given", []), name.get("family", "")]).strip()
        extra = f", born {resource['birthDate']}" if resource.get("birthDate") else ""
        return f"{rtype}: {who}{extra}"
    if rtype == "Organization":
        return f"Organization: {resource.get('name', '')}"
    if rtype == "Composition":
        return f"{resource.get('title', 'Document')} ({resource.get('date', '')})"
    for key in ("code", "medicationCodeableConcept", "type", "class", "procedureCode"):
        value = resource.get(key)
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, dict):
            label = value.get("text") or (value.get("coding") or [value])[0].get("display") or \
                (value.get("coding") or [value])[0].get("code")
            if label:
                return f"{rtype}: {label}"
    if resource.get("medicationReference", {}).get("display"):
        return f"{rtype}: {resource['medicationReference']['display']}"
    return rtype


def _with_narratives(entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        res = entry.get("resource") or {}
        if "text" not in res:
            res["text"] = narrative(summary_text(res))
            # keep the narrative right after the id, where FHIR JSON puts it
            ordered = {k: res[k] for k in ("resourceType", "id", "text") if k in res}
            ordered.update({k: v for k, v in res.items() if k not in ordered})
            res.clear()
            res.update(ordered)


def finish_document(frame: Frame, title: str, sections: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    code, display = CATEGORY_TYPES[frame.category]
    doc_uuid = frame.ids.new()
    comp_uuid = frame.ids.new()
    composition: dict[str, Any] = {
        "resourceType": "Composition",
        "id": comp_uuid,
        "identifier": {"system": RFC3986, "value": f"urn:uuid:{doc_uuid}"},
        "status": "final",
        "type": concept(LOINC, code, display),
        "subject": ref(frame.patient_url),
        "date": frame.instant(),
        "author": [ref(frame.author_url)],
        "title": title,
        "confidentiality": "N",
        "attester": [{"mode": "legal", "time": frame.instant(), "party": ref(frame.author_url)}],
        "custodian": ref(frame.org_url),
        **extra,
        "section": sections,
    }
    frame.entries[0] = {"fullUrl": f"urn:uuid:{comp_uuid}", "resource": composition}
    _with_narratives(frame.entries)
    return {
        "resourceType": "Bundle",
        "id": doc_uuid,
        "meta": {"profile": [CATEGORY_PROFILES[frame.category]]},
        "identifier": {"system": RFC3986, "value": f"urn:uuid:{doc_uuid}"},
        "type": "document",
        "timestamp": frame.instant(),
        "entry": frame.entries,
    }


def make_section(title: str, code: str, display: str, text: dict[str, str], entries: Sequence[str] = (),
             empty_reason: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"title": title, "code": concept(LOINC, code, display), "text": text}
    if entries:
        out["entry"] = [ref(u) for u in entries]
    elif empty_reason:
        out["emptyReason"] = {
            "coding": [coding("http://terminology.hl7.org/CodeSystem/list-empty-reason", "unavailable",
                              "Unavailable")],
            "text": "No information available",
        }
    return out


def medication_concept(atc: str, name: str, strength: str) -> dict[str, Any]:
    return concept(ATC, atc, name, text=f"{name} {strength}")


def dosage(frame: Frame, count: int) -> dict[str, Any]:
    per_day = frame.chooser.integer(1, 3)
    return {
        "text": f"{count} tablet(s) {per_day} time(s) a day",
        "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
        "route": concept(EDQM, "20053000", "Oral use"),
        "doseAndRate": [{"doseQuantity": {"value": count, "unit": "tablet", "system": UCUM, "code": "1"}}],
    }


def check_category(category: str) -> None:
    """UsageError (with the known categories) unless ``category`` is a priority category id."""
    try:
        lookup_category(category)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
