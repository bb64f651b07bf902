"""Valid EEHRxF FHIR documents for the six EHDS priority categories, built from data, not fixtures.

Why this module exists: every check needs documents a conformant SUT must accept, for a
fresh patient, and the same inputs again when the run is repeated with the same seed.
One set of builders serves two drivers:

* :func:`valid_document` (seeded ``random.Random``): quick, deterministic documents for
  checks that need "a valid summary for this patient" (the plugin's ``documents`` fixture);
* :mod:`conformance.strategies` (hypothesis ``draw``): the same builders under hypothesis,
  so failing examples shrink towards the simplest document.

The builders only make choices through a :class:`Chooser`, so both drivers produce the
same shapes. Everything returned is plain JSON-safe ``dict``/``list`` data (usable as
evidence and as a minimal reproducer).

Profiles: the patient summary is an IPS 2.0.0 document (Bundle-uv-ips). The five other
categories follow the minimal stand-in profiles of ``profiles/packages/ehds-minimal``
(written from the HL7 Europe MPD / Laboratory / Imaging / HDR requirements); a user can
swap in the official HL7 Europe packages.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import os
import random
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, TypeVar

from conformance.errors import UsageError

T = TypeVar("T")

# ---- canonical URLs ------------------------------------------------------------------

from conformance.categories import CATEGORY_PROFILES, CATEGORY_TYPES, IPS_BASE, LOINC, MINIMAL_BASE  # noqa: E402,F401

SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
EDQM = "http://standardterms.edqm.eu"
UCUM = "http://unitsofmeasure.org"
DICOM_DCM = "http://dicom.nema.org/resources/ontology/DCM"
RFC3986 = "urn:ietf:rfc:3986"
#: 2.999 is the ITU-T/ISO "example" OID arc: identifiers that can never be real.
PATIENT_ID_SYSTEM = "urn:oid:2.999.1.1"
PRACTITIONER_ID_SYSTEM = "urn:oid:2.999.1.2"
ORGANISATION_ID_SYSTEM = "urn:oid:2.999.1.3"
PRESCRIPTION_ID_SYSTEM = "urn:oid:2.999.1.4"
DISPENSE_ID_SYSTEM = "urn:oid:2.999.1.5"
ENCOUNTER_ID_SYSTEM = "urn:oid:2.999.1.6"
ORDER_ID_SYSTEM = "urn:oid:2.999.1.7"
DICOM_UID_SYSTEM = "urn:dicom:uid"
_ID_NAMESPACE = uuid.UUID("6f7c0c51-5b8e-4f0e-9a57-3c1f0e0d7e11")


# ---- patient identity ----------------------------------------------------------------

@dataclass(frozen=True)
class PatientIdentity:
    """Who a generated document is about. ``identifier`` is ``system|value``."""

    identifier: str
    family: str
    given: str
    birth_date: str  # YYYY-MM-DD
    gender: str  # administrative-gender code

    @property
    def system(self) -> str:
        return self.identifier.partition("|")[0]

    @property
    def value(self) -> str:
        return self.identifier.partition("|")[2]

    def to_json(self) -> dict[str, str]:
        return {"identifier": self.identifier, "family": self.family, "given": self.given,
                "birth_date": self.birth_date, "gender": self.gender}


# Names include non-ASCII letters on purpose: a round trip must keep them.
_FAMILIES = ("Martin", "Müller", "Rossi", "García", "Novák", "Dupré", "Jansen", "Kowalski", "Nieminen",
             "Papadopoulos", "Ó Briain", "Şahin", "Lindqvist", "Horváth", "Silva", "Dąbrowska")
_GIVENS = ("Anna", "Luca", "Zoë", "Jan", "Marie", "Søren", "Élodie", "Matteo", "Agnieszka", "Jonas",
           "Inês", "Mikael", "Eleni", "Tomáš", "Aoife", "Björn")
_GENDERS = ("female", "male", "other", "unknown")


_counter = itertools.count(1)
_process_namespace = f"T{secrets.token_hex(4)}"


def new_patient_identity(rng_or_counter: random.Random | int | None = None, *, namespace: str | None = None,
                         system: str = PATIENT_ID_SYSTEM, **overrides: str) -> PatientIdentity:
    """A fresh patient identity.

    * ``int`` counter: the identity is a pure function of ``(namespace, counter)``. Pass a per-run
      namespace (e.g. derived from the run seed and the test id) to get identical identities when
      a run is repeated, and distinct ones between runs against a shared server.
    * ``random.Random``: the value is drawn from it (reproducible from its seed).
    * nothing: a process-wide counter under a random per-process namespace (unique, not reproducible).

    ``overrides`` (identifier, family, given, birth_date, gender) replace generated fields.
    """
    unknown = set(overrides) - {"identifier", "family", "given", "birth_date", "gender"}
    if unknown:
        raise UsageError(f"new_patient_identity(): unknown field(s) {', '.join(sorted(unknown))}; "
                         "allowed: identifier, family, given, birth_date, gender")
    if rng_or_counter is None:
        rng_or_counter = next(_counter)
        namespace = _process_namespace if namespace is None else namespace
    namespace = namespace or ""
    if isinstance(rng_or_counter, bool) or not isinstance(rng_or_counter, (int, random.Random)):
        raise UsageError(f"new_patient_identity() needs a random.Random or an int counter, "
                         f"got {type(rng_or_counter).__name__}")
    if isinstance(rng_or_counter, int):
        if rng_or_counter < 0:
            raise UsageError(f"patient counter must be >= 0, got {rng_or_counter}")
        rng = random.Random(f"{namespace}/{rng_or_counter}")
        value = f"{namespace}-{rng_or_counter:06d}" if namespace else f"P{rng_or_counter:06d}"
    else:
        rng = rng_or_counter
        value = f"{namespace}-{rng.getrandbits(48):012x}" if namespace else f"P{rng.getrandbits(48):012x}"
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 90 * 365))
    fields = {
        "identifier": f"{system}|{value}",
        "family": rng.choice(_FAMILIES),
        "given": rng.choice(_GIVENS),
        "birth_date": born.isoformat(),
        "gender": rng.choice(_GENDERS),
    }
    fields.update(overrides)
    if "|" not in fields["identifier"]:
        raise UsageError(f"patient identifier {fields['identifier']!r} must be 'system|value'")
    return PatientIdentity(**fields)


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


class _Ids:
    """Deterministic, document-unique UUIDs: uuid5 of a namespace (patient + category + seed)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.n = 0

    def new(self) -> str:
        self.n += 1
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.namespace}#{self.n}"))

    def oid(self) -> str:
        """A DICOM-style UID (2.25 arc = UUID as integer)."""
        return f"2.25.{uuid.UUID(self.new()).int}"


# ---- small FHIR helpers -------------------------------------------------------------

def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def narrative(*paragraphs: str) -> dict[str, str]:
    """A generated XHTML narrative (escaped; one <p> per paragraph)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) or "<p>-</p>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def table_narrative(caption: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> dict[str, str]:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    div = (f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(caption)}</p>'
           f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
    return {"status": "generated", "div": div}


def ref(full_url: str, display: str | None = None) -> dict[str, str]:
    out = {"reference": full_url}
    if display:
        out["display"] = display
    return out


def identifier(system_value: str) -> dict[str, str]:
    system, _, value = system_value.partition("|")
    return {"system": system, "value": value}


# ---- code tables (simplest first) ----------------------------------------------------

PROBLEMS = (
    ("38341003", "Hypertensive disorder, systemic arterial (disorder)"),
    ("44054006", "Diabetes mellitus type 2 (disorder)"),
    ("195967001", "Asthma (disorder)"),
    ("13645005", "Chronic obstructive lung disease (disorder)"),
    ("49436004", "Atrial fibrillation (disorder)"),
    ("35489007", "Depressive disorder (disorder)"),
    ("399211009", "History of myocardial infarction (situation)"),
)
ALLERGENS = (
    ("764146007", "Penicillin (substance)", "medication"),
    ("387458008", "Aspirin (substance)", "medication"),
    ("762952008", "Peanut (substance)", "food"),
    ("227493005", "Cashew nut (substance)", "food"),
    ("111088007", "Latex (substance)", "environment"),
)
REACTIONS = (
    ("247472004", "Wheal (finding)"),
    ("271807003", "Eruption of skin (disorder)"),
    ("39579001", "Anaphylaxis (disorder)"),
)
PROCEDURES = (
    ("80146002", "Excision of appendix (procedure)"),
    ("38102005", "Cholecystectomy (procedure)"),
    ("52734007", "Total replacement of hip (procedure)"),
    ("73761001", "Colonoscopy (procedure)"),
)
DEVICES = (
    ("14106009", "Cardiac pacemaker, device (physical object)"),
    ("6012004", "Hearing aid, device (physical object)"),
    ("304120007", "Total hip replacement prosthesis (physical object)"),
)
#: ATC code, display, strength text, usual daily dose count.
MEDICINES = (
    ("C09AA05", "ramipril", "5 mg tablet"),
    ("A10BA02", "metformin", "500 mg tablet"),
    ("C10AA05", "atorvastatin", "20 mg tablet"),
    ("N02BE01", "paracetamol", "500 mg tablet"),
    ("C07AB02", "metoprolol", "50 mg tablet"),
    ("B01AC06", "acetylsalicylic acid", "100 mg tablet"),
    ("C03CA01", "furosemide", "40 mg tablet"),
    ("R03AC02", "salbutamol", "100 microgram/dose inhaler"),
)
#: LOINC, display, UCUM unit, low, high (reference range), generation range (tenths).
LAB_TESTS = (
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 17.5, (60, 200)),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70.0, 99.0, (500, 3000)),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.3, (3, 60)),
    ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135.0, 145.0, (1200, 1600)),
    ("6298-4", "Potassium [Moles/volume] in Blood", "mmol/L", 3.5, 5.1, (25, 70)),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 7.0, 56.0,
     (30, 3000)),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.0, 5.6, (35, 140)),
)
#: LOINC procedure, display, DICOM modality.
IMAGING_PROCEDURES = (
    ("36643-5", "XR Chest 2 Views", "DX"),
    ("24627-2", "CT Chest", "CT"),
    ("24590-2", "MR Brain", "MR"),
    ("24558-9", "US Abdomen", "US"),
)
MODALITIES = {"DX": "Digital Radiography", "CT": "Computed Tomography", "MR": "Magnetic Resonance",
              "US": "Ultrasound"}
IMAGING_CONCLUSIONS = (
    "No acute abnormality.",
    "Small nodule, follow-up recommended in 6 months.",
    "Findings consistent with mild degenerative change.",
    "Suspected consolidation in the right lower lobe.",
)
HOSPITAL_COURSES = (
    "Admitted for observation; uneventful stay.",
    "Admitted with chest pain; myocardial infarction ruled out; mobilised on day 2.",
    "Admitted with exacerbation of COPD; treated with bronchodilators and oral steroids.",
    "Elective hip replacement; rehabilitation started on day 1.",
)
PRACTITIONERS = (("Weber", "Clara"), ("Fontaine", "Hugo"), ("Bianchi", "Sofia"), ("Kovač", "Ivan"))
ORGANISATIONS = ("Hôpital Saint-Exemple", "Klinikum Musterstadt", "Ospedale Esempio", "Szpital Przykładowy")


# ---- the shared document frame -------------------------------------------------------

@dataclass
class _Frame:
    """What every document has: ids, patient, author, custodian, clock, and the entry list."""

    category: str
    ids: _Ids
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


def _start(category: str, patient: PatientIdentity, chooser: Chooser, namespace: str) -> _Frame:
    ids = _Ids(f"{patient.identifier}|{category}|{namespace}")
    day = date(2024, 1, 1) + timedelta(days=chooser.integer(0, 700))
    frame = _Frame(category, ids, chooser, patient, day, [])
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


def _finish(frame: _Frame, title: str, sections: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
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


def _section(title: str, code: str, display: str, text: dict[str, str], entries: Sequence[str] = (),
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


def _medication_concept(atc: str, name: str, strength: str) -> dict[str, Any]:
    return concept(ATC, atc, name, text=f"{name} {strength}")


def _dose(frame: _Frame, count: int) -> dict[str, Any]:
    per_day = frame.chooser.integer(1, 3)
    return {
        "text": f"{count} tablet(s) {per_day} time(s) a day",
        "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
        "route": concept(EDQM, "20053000", "Oral use"),
        "doseAndRate": [{"doseQuantity": {"value": count, "unit": "tablet", "system": UCUM, "code": "1"}}],
    }


# ---- patient summary (IPS 2.0.0) -----------------------------------------------------

#: The sections every patient summary carries (PS-002): IPS requires the first three; the EHDS
#: profile also requires procedures and devices. Key -> (LOINC, display, title).
PS_SECTIONS = {
    "allergies": ("48765-2", "Allergies and adverse reactions Document", "Allergies and Intolerances"),
    "problems": ("11450-4", "Problem list - Reported", "Problem List"),
    "medications": ("10160-0", "History of Medication use Narrative", "Medication Summary"),
    "procedures": ("47519-4", "History of Procedures Document", "History of Procedures"),
    "devices": ("46264-8", "History of medical device use", "Medical Devices"),
}


def _ps_allergies(frame: _Frame, n: int) -> tuple[list[str], dict[str, str]]:
    urls, rows = [], []
    for _ in range(n):
        code, display, category = frame.chooser.choice(ALLERGENS)
        reaction_code, reaction_display = frame.chooser.choice(REACTIONS)
        criticality = frame.chooser.choice(("low", "high", "unable-to-assess"))
        onset = frame.earlier(frame.chooser.integer(30, 3650)).isoformat()
        urls.append(frame.add({
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active",
                                      "Active"),
            "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                          "confirmed", "Confirmed"),
            "type": "allergy",
            "category": [category],
            "criticality": criticality,
            "code": concept(SNOMED, code, display),
            "patient": ref(frame.patient_url),
            "onsetDateTime": onset,
            "reaction": [{"manifestation": [concept(SNOMED, reaction_code, reaction_display)]}],
        }))
        rows.append((display, reaction_display, criticality, onset))
    return urls, table_narrative("Allergies and intolerances", ("Allergen", "Reaction", "Criticality", "Onset"),
                                 rows)


def _ps_problems(frame: _Frame, n: int) -> tuple[list[str], dict[str, str]]:
    urls, rows = [], []
    for _ in range(n):
        code, display = frame.chooser.choice(PROBLEMS)
        onset = frame.earlier(frame.chooser.integer(30, 7300)).isoformat()
        urls.append(frame.add({
            "resourceType": "Condition",
            "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
            "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed",
                                          "Confirmed"),
            "category": [concept("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item",
                                 "Problem List Item")],
            "code": concept(SNOMED, code, display),
            "subject": ref(frame.patient_url),
            "onsetDateTime": onset,
        }))
        rows.append((display, "active", onset))
    return urls, table_narrative("Problems", ("Problem", "Status", "Onset"), rows)


def _ps_medications(frame: _Frame, n: int) -> tuple[list[str], dict[str, str]]:
    urls, rows = [], []
    for _ in range(n):
        atc, name, strength = frame.chooser.choice(MEDICINES)
        started = frame.earlier(frame.chooser.integer(10, 2000)).isoformat()
        dose = _dose(frame, frame.chooser.integer(1, 2))
        urls.append(frame.add({
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": _medication_concept(atc, name, strength),
            "subject": ref(frame.patient_url),
            "effectivePeriod": {"start": started},
            "dosage": [dose],
        }))
        rows.append((f"{name} {strength}", dose["text"], started))
    return urls, table_narrative("Medication summary", ("Medicine", "Dosage", "Since"), rows)


def _ps_procedures(frame: _Frame, n: int) -> tuple[list[str], dict[str, str]]:
    urls, rows = [], []
    for _ in range(n):
        code, display = frame.chooser.choice(PROCEDURES)
        performed = frame.earlier(frame.chooser.integer(30, 7300)).isoformat()
        urls.append(frame.add({
            "resourceType": "Procedure",
            "status": "completed",
            "code": concept(SNOMED, code, display),
            "subject": ref(frame.patient_url),
            "performedDateTime": performed,
        }))
        rows.append((display, performed))
    return urls, table_narrative("Procedures", ("Procedure", "Date"), rows)


def _ps_devices(frame: _Frame, n: int) -> tuple[list[str], dict[str, str]]:
    urls, rows = [], []
    for _ in range(n):
        code, display = frame.chooser.choice(DEVICES)
        since = frame.earlier(frame.chooser.integer(30, 7300)).isoformat()
        device_url = frame.add({
            "resourceType": "Device",
            "type": concept(SNOMED, code, display),
            "patient": ref(frame.patient_url),
        })
        urls.append(frame.add({
            "resourceType": "DeviceUseStatement",
            "status": "active",
            "subject": ref(frame.patient_url),
            "timingDateTime": since,
            "device": ref(device_url),
        }))
        rows.append((display, since))
    return urls, table_narrative("Medical devices", ("Device", "In use since"), rows)


_PS_EMPTY_TEXT = {
    "allergies": "There is no information available regarding the subject's allergies.",
    "problems": "There is no information available about the subject's health problems.",
    "medications": "There is no information available about the subject's medication use.",
    "procedures": "There is no information available about past procedures.",
    "devices": "There is no information available about implants and medical devices.",
}


_IPS_REQUIRED = ("allergies", "problems", "medications")


def _build_patient_summary(frame: _Frame, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """IPS document; each required section has entries or an explicit emptyReason (ips-comp-1)."""
    builders: dict[str, Callable[[_Frame, int], tuple[list[str], dict[str, str]]]] = {
        "allergies": _ps_allergies, "problems": _ps_problems, "medications": _ps_medications,
        "procedures": _ps_procedures, "devices": _ps_devices}
    sections = []
    for key, (code, display, title) in PS_SECTIONS.items():
        n = counts[key] if counts and key in counts else frame.chooser.integer(0, 3 if key in _IPS_REQUIRED else 2)
        if n:
            urls, text = builders[key](frame, n)
            sections.append(_section(title, code, display, text, urls))
        else:
            sections.append(_section(title, code, display, narrative(_PS_EMPTY_TEXT[key]), empty_reason=True))
    event = [{"code": [concept("http://terminology.hl7.org/CodeSystem/v3-ActClass", "PCPR")],
              "period": {"end": frame.instant()}}]
    return _finish(frame, f"Patient Summary as of {frame.day.isoformat()}", sections, event=event)


# ---- ePrescription / eDispensation ---------------------------------------------------

def _prescription_request(frame: _Frame) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    atc, name, strength = frame.chooser.choice(MEDICINES)
    count = frame.chooser.integer(1, 2)
    dose = _dose(frame, count)
    quantity = frame.chooser.choice((10, 20, 28, 30, 56, 60, 90, 100))
    medication_url = frame.add({
        "resourceType": "Medication",
        "code": _medication_concept(atc, name, strength),
        "form": concept(EDQM, "10219000", "Tablet"),
    })
    resource = {
        "resourceType": "MedicationRequest",
        "identifier": [{"system": PRESCRIPTION_ID_SYSTEM, "value": f"RX-{frame.ids.new().replace('-', '')[:20].upper()}"}],
        "status": "active",
        "intent": "order",
        "medicationReference": ref(medication_url, f"{name} {strength}"),
        "subject": ref(frame.patient_url),
        "authoredOn": frame.day.isoformat(),
        "requester": ref(frame.author_url),
        "dosageInstruction": [dose],
        "dispenseRequest": {
            "validityPeriod": {"start": frame.day.isoformat(), "end": (frame.day + timedelta(days=90)).isoformat()},
            "numberOfRepeatsAllowed": frame.chooser.integer(0, 3),
            "quantity": {"value": quantity, "unit": "tablet", "system": UCUM, "code": "1"},
        },
        "substitution": {"allowedBoolean": frame.chooser.boolean()},
    }
    url = frame.add(resource)
    return url, resource, (f"{name} {strength}", dose["text"], str(quantity), resource["identifier"][0]["value"])


def _build_eprescription(frame: _Frame) -> dict[str, Any]:
    urls, rows = [], []
    for _ in range(frame.chooser.integer(1, 3)):
        url, _resource, row = _prescription_request(frame)
        urls.append(url)
        rows.append(row)
    text = table_narrative("Prescribed medicines", ("Medicine", "Dosage", "Quantity", "Prescription id"), rows)
    section = _section("Prescribed medicines", "57828-6", "Prescription list", text, urls)
    return _finish(frame, "ePrescription", [section])


def _prescribed_items(prescription: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(MedicationRequest, its Medication or None) pairs of a prescription Bundle."""
    by_url = {e.get("fullUrl"): e.get("resource", {}) for e in prescription.get("entry", [])}
    out = []
    for entry in prescription.get("entry", []):
        res = entry.get("resource", {})
        if res.get("resourceType") == "MedicationRequest":
            med = by_url.get(res.get("medicationReference", {}).get("reference"))
            out.append((res, med))
    if not out:
        raise UsageError("the prescription Bundle has no MedicationRequest to dispense against; "
                         "pass a document made by valid_document('eprescription', ...)")
    return out


def _copy_prescriber(frame: _Frame, prescription: dict[str, Any], request: dict[str, Any]) -> str:
    """The prescriber travels with the prescription copy (MedicationRequest.requester is required)."""
    by_url = {e.get("fullUrl"): e.get("resource", {}) for e in prescription.get("entry", [])}
    prescriber = by_url.get((request.get("requester") or {}).get("reference"))
    if not prescriber or prescriber is None or not prescriber.get("resourceType"):
        return frame.author_url
    if (request.get("requester") or {}).get("reference") == frame.author_url:
        return frame.author_url
    return frame.add({k: v for k, v in prescriber.items() if k not in ("id", "meta", "text")})


def _build_edispensation(frame: _Frame, prescription: dict[str, Any] | None) -> dict[str, Any]:
    """A dispensation of one prescribed item. The prescription (a copy of its MedicationRequest,
    same business identifier) travels in the document so authorizingPrescription resolves."""
    if prescription is None:
        rx_frame = _Frame("eprescription", frame.ids, frame.chooser, frame.patient, frame.day, [{}])
        rx_frame.patient_url, rx_frame.author_url, rx_frame.org_url = frame.patient_url, frame.author_url, frame.org_url
        _prescription_request(rx_frame)
        prescription = {"entry": rx_frame.entries[1:]}
    items = _prescribed_items(prescription)
    request, medication = frame.chooser.choice(items)
    med_url = None
    if medication is not None:
        med_url = frame.add({k: v for k, v in medication.items() if k not in ("id", "meta", "text")})
    request_copy = {k: v for k, v in request.items() if k not in ("id", "meta", "text")}
    request_copy["subject"] = ref(frame.patient_url)
    request_copy["requester"] = ref(_copy_prescriber(frame, prescription, request))
    if med_url:
        request_copy["medicationReference"] = ref(med_url, request.get("medicationReference", {}).get("display"))
    request_url = frame.add(request_copy)
    prescribed = request.get("dispenseRequest", {}).get("quantity", {}).get("value", 1)
    dispensed = frame.chooser.choice(sorted({prescribed, max(1, prescribed // 2)}))
    substituted = frame.chooser.boolean() and bool(request.get("substitution", {}).get("allowedBoolean"))
    pharmacist_family, pharmacist_given = frame.chooser.choice(PRACTITIONERS)
    pharmacist_url = frame.add({
        "resourceType": "Practitioner",
        "identifier": [{"system": PRACTITIONER_ID_SYSTEM, "value": f"PH-{frame.ids.new()[:8]}"}],
        "name": [{"family": pharmacist_family, "given": [pharmacist_given]}],
    })
    medication_field: dict[str, Any] = (
        {"medicationReference": ref(med_url)} if med_url
        else {"medicationCodeableConcept": request.get("medicationCodeableConcept", {"text": "unknown"})})
    dispense: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "identifier": [{"system": DISPENSE_ID_SYSTEM, "value": f"DISP-{frame.ids.new()}"}],
        "status": "completed",
        **medication_field,
        "subject": ref(frame.patient_url),
        "performer": [{"actor": ref(pharmacist_url)}],
        "authorizingPrescription": [ref(request_url)],
        "quantity": {"value": dispensed, "unit": "tablet", "system": UCUM, "code": "1"},
        "whenHandedOver": frame.instant(15, 0),
        "dosageInstruction": request.get("dosageInstruction", []),
        "substitution": {"wasSubstituted": substituted},
    }
    if substituted:
        dispense["substitution"]["type"] = concept("http://terminology.hl7.org/CodeSystem/v3-substanceAdminSubstitution",
                                                   "G", "generic composition")
    dispense_url = frame.add(dispense)
    medicine = request.get("medicationReference", {}).get("display") or "medicine"
    rx_id = (request.get("identifier") or [{}])[0].get("value", "")
    text = table_narrative("Dispensed medicines", ("Medicine", "Quantity", "Prescription id", "Substituted"),
                           [(medicine, str(dispensed), rx_id, "yes" if substituted else "no")])
    section = _section("Dispensed medicines", "60590-7", "Medication dispensed.brief", text, [dispense_url])
    return _finish(frame, "eDispensation", [section])


# ---- laboratory report ---------------------------------------------------------------

def _build_laboratory(frame: _Frame) -> dict[str, Any]:
    """One Composition and one DiagnosticReport, aligned on subject, type and identifier;
    the report's results are exactly the observations the section lists."""
    n = frame.chooser.integer(1, 4)
    chosen: list[tuple[Any, ...]] = []
    for _ in range(n):
        test = frame.chooser.choice(LAB_TESTS)
        if test not in chosen:
            chosen.append(test)
    collected = frame.instant(8, 0)
    urls, rows = [], []
    for code, display, unit, low, high, (lo10, hi10) in chosen:
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [concept("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory",
                                 "Laboratory")],
            "code": concept(LOINC, code, display),
            "subject": ref(frame.patient_url),
            "effectiveDateTime": collected,
            "performer": [ref(frame.org_url)],
        }
        if frame.chooser.integer(0, 5) == 5:  # sometimes no value, and the reason why (LAB-002)
            observation["dataAbsentReason"] = concept("http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                                      "error", "Error")
            observation["note"] = [{"text": "Sample haemolysed; no result."}]
            rows.append((display, "no result (sample haemolysed)", f"{low:g}-{high:g}", ""))
        else:
            value = frame.chooser.integer(lo10, hi10) / 10
            interpretation = "N" if low <= value <= high else ("L" if value < low else "H")
            observation["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
            observation["interpretation"] = [concept(
                "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", interpretation)]
            rows.append((display, f"{value:g} {unit}", f"{low:g}-{high:g}", interpretation))
        observation["referenceRange"] = [{"low": {"value": low, "unit": unit, "system": UCUM, "code": unit},
                                          "high": {"value": high, "unit": unit, "system": UCUM, "code": unit}}]
        urls.append(frame.add(observation))
    code, display = CATEGORY_TYPES["laboratory"]
    report_url = frame.add({
        "resourceType": "DiagnosticReport",
        "status": "final",
        "category": [concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")],
        "code": concept(LOINC, code, display),
        "subject": ref(frame.patient_url),
        "effectiveDateTime": collected,
        "issued": frame.instant(),
        "performer": [ref(frame.org_url)],
        "result": [ref(u) for u in urls],
    })
    text = table_narrative("Laboratory results", ("Test", "Result", "Reference range", "Flag"), rows)
    section = _section("Laboratory results", "26436-6", "Laboratory studies (set)", text, urls)
    bundle = _finish(frame, "Laboratory report", [section])
    # align: the report carries the document's identifier (LAB-001 dr-comp-identifier)
    composition = bundle["entry"][0]["resource"]
    for entry in bundle["entry"]:
        if entry["fullUrl"] == report_url:
            entry["resource"]["identifier"] = [dict(composition["identifier"])]
    composition["extension"] = [{"url": f"{MINIMAL_BASE}/composition-diagnostic-report",
                                 "valueReference": ref(report_url)}]
    return bundle


# ---- imaging report ------------------------------------------------------------------

def _build_imaging(frame: _Frame) -> dict[str, Any]:
    """Imaging report whose DiagnosticReport points at an ImagingStudy with a DICOM study UID."""
    code, display, modality = frame.chooser.choice(IMAGING_PROCEDURES)
    study_uid = frame.ids.oid()
    accession = f"ACC-{frame.ids.new()[:12]}"
    started = frame.instant(9, 15)
    study_url = frame.add({
        "resourceType": "ImagingStudy",
        "identifier": [{"system": DICOM_UID_SYSTEM, "value": f"urn:oid:{study_uid}"},
                       {"type": concept("http://terminology.hl7.org/CodeSystem/v2-0203", "ACSN"),
                        "system": ORDER_ID_SYSTEM, "value": accession}],
        "status": "available",
        "modality": [coding(DICOM_DCM, modality, MODALITIES[modality])],
        "subject": ref(frame.patient_url),
        "started": started,
        "procedureCode": [concept(LOINC, code, display)],
        "numberOfSeries": 1,
        "numberOfInstances": frame.chooser.integer(1, 300),
    })
    conclusion = frame.chooser.choice(IMAGING_CONCLUSIONS)
    report_url = frame.add({
        "resourceType": "DiagnosticReport",
        "status": "final",
        "category": [concept("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology")],
        "code": concept(LOINC, "18748-4", "Diagnostic imaging study"),
        "subject": ref(frame.patient_url),
        "effectiveDateTime": started,
        "issued": frame.instant(),
        "performer": [ref(frame.author_url)],
        "imagingStudy": [ref(study_url)],
        "conclusion": conclusion,
    })
    findings = narrative(f"{display} ({MODALITIES[modality]}), study UID {study_uid}, accession {accession}.",
                         conclusion)
    sections = [
        _section("Findings", "59776-5", "Procedure Findings Narrative", findings, [report_url]),
        _section("Impression", "19005-8", "Radiology Imaging study [Impression] (narrative)", narrative(conclusion)),
    ]
    return _finish(frame, f"Imaging report: {display}", sections)


# ---- hospital discharge report -------------------------------------------------------

def _build_discharge(frame: _Frame) -> dict[str, Any]:
    """Discharge report tied to its inpatient Encounter (Composition.encounter, Condition.encounter)."""
    stay = frame.chooser.integer(1, 14)
    admitted = frame.earlier(stay)
    encounter_url = frame.add({
        "resourceType": "Encounter",
        "identifier": [{"system": ENCOUNTER_ID_SYSTEM, "value": f"ENC-{frame.ids.new()}"}],
        "status": "finished",
        "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP", "inpatient encounter"),
        "subject": ref(frame.patient_url),
        "period": {"start": f"{admitted.isoformat()}T08:00:00+01:00", "end": frame.instant(11, 0)},
        "serviceProvider": ref(frame.org_url),
    })
    diag_urls, diag_rows = [], []
    for _ in range(frame.chooser.integer(1, 2)):
        code, display = frame.chooser.choice(PROBLEMS)
        diag_urls.append(frame.add({
            "resourceType": "Condition",
            "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
            "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed",
                                          "Confirmed"),
            "category": [concept("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis",
                                 "Encounter Diagnosis")],
            "code": concept(SNOMED, code, display),
            "subject": ref(frame.patient_url),
            "encounter": ref(encounter_url),
            "recordedDate": frame.day.isoformat(),
        }))
        diag_rows.append((display,))
    med_urls, med_rows = [], []
    for _ in range(frame.chooser.integer(0, 2)):
        atc, name, strength = frame.chooser.choice(MEDICINES)
        dose = _dose(frame, 1)
        med_urls.append(frame.add({
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": _medication_concept(atc, name, strength),
            "subject": ref(frame.patient_url),
            "context": ref(encounter_url),
            "effectivePeriod": {"start": frame.day.isoformat()},
            "dosage": [dose],
        }))
        med_rows.append((f"{name} {strength}", dose["text"]))
    course = frame.chooser.choice(HOSPITAL_COURSES)
    sections = [
        _section("Hospital course", "8648-8", "Hospital course Narrative",
                 narrative(f"Stay from {admitted.isoformat()} to {frame.day.isoformat()} ({stay} days).", course)),
        _section("Discharge diagnosis", "11535-2", "Hospital discharge Dx Narrative",
                 table_narrative("Discharge diagnoses", ("Diagnosis",), diag_rows), diag_urls),
    ]
    if med_urls:
        sections.append(_section("Discharge medications", "75311-1", "Discharge medications Narrative",
                                 table_narrative("Discharge medications", ("Medicine", "Dosage"), med_rows), med_urls))
    else:
        sections.append(_section("Discharge medications", "75311-1", "Discharge medications Narrative",
                                 narrative("No medication at discharge."), empty_reason=True))
    return _finish(frame, "Hospital discharge report", sections, encounter=ref(encounter_url))


# ---- public API ----------------------------------------------------------------------

def build_document(category: str, patient: PatientIdentity, chooser: Chooser, *, namespace: str = "",
                   prescription: dict[str, Any] | None = None,
                   ps_counts: dict[str, int] | None = None) -> dict[str, Any]:
    """Build one valid document of ``category`` for ``patient``, making choices with ``chooser``.

    ``namespace`` makes resource ids unique (same patient + category + namespace -> same ids).
    ``prescription`` (edispensation only): the ePrescription Bundle to dispense against.
    ``ps_counts`` (patient-summary only): entries per section, e.g. ``{"allergies": 0}`` forces
    an explicitly empty allergies section.
    """
    _check_category(category)
    frame = _start(category, patient, chooser, namespace)
    if category == "patient-summary":
        return _build_patient_summary(frame, ps_counts)
    if category == "eprescription":
        return _build_eprescription(frame)
    if category == "edispensation":
        return _build_edispensation(frame, prescription)
    if category == "laboratory":
        return _build_laboratory(frame)
    if category == "imaging":
        return _build_imaging(frame)
    return _build_discharge(frame)


def valid_document(category: str, patient: PatientIdentity, *, seed: int = 0,
                   prescription: dict[str, Any] | None = None,
                   ps_counts: dict[str, int] | None = None) -> dict[str, Any]:
    """A valid document Bundle of ``category`` for ``patient``; the same arguments give the same
    document. Different seeds vary content (codes, counts, empty sections, dates)."""
    if not isinstance(patient, PatientIdentity):
        raise UsageError(f"valid_document() needs a PatientIdentity, got {type(patient).__name__}; "
                         "make one with conformance.documents.new_patient_identity()")
    chooser = RandomChooser(random.Random(f"{category}/{seed}/{patient.identifier}"))
    return build_document(category, patient, chooser, namespace=f"seed{seed}", prescription=prescription,
                          ps_counts=ps_counts)


def _check_category(category: str) -> None:
    from conformance.categories import category as lookup

    try:
        lookup(category)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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
    text = _UUID_RE.sub(lambda m: str(uuid.uuid5(_ID_NAMESPACE, f"{salt}|{m.group(0)}")), text)
    text = _DICOM_RE.sub(lambda m: f"2.25.{uuid.uuid5(_ID_NAMESPACE, f'{salt}|{m.group(1)}').int}", text)
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
    _check_category(category)
    env = PROFILE_ENV_PREFIX + category.upper().replace("-", "_")
    return os.environ.get(env) or CATEGORY_PROFILES[category]
