"""Patient summary (IPS 2.0.0): the five sections PS-002 requires, each with entries or an explicit
emptyReason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.documents.common import (
    ALLERGENS,
    DEVICES,
    MEDICINES,
    PROBLEMS,
    PROCEDURES,
    REACTIONS,
    SNOMED,
    concept,
    narrative,
    ref,
    table_narrative,
)
from conformance.documents.frame import Frame, dosage, finish_document, make_section, medication_concept

#: The sections every patient summary carries (PS-002): IPS requires the first three; the EHDS
#: profile also requires procedures and devices. Key -> (LOINC, display, title).
PS_SECTIONS = {
    "allergies": ("48765-2", "Allergies and adverse reactions Document", "Allergies and Intolerances"),
    "problems": ("11450-4", "Problem list - Reported", "Problem List"),
    "medications": ("10160-0", "History of Medication use Narrative", "Medication Summary"),
    "procedures": ("47519-4", "History of Procedures Document", "History of Procedures"),
    "devices": ("46264-8", "History of medical device use", "Medical Devices"),
}


def _ps_allergies(frame: Frame, n: int) -> tuple[list[str], dict[str, str]]:
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


def _ps_problems(frame: Frame, n: int) -> tuple[list[str], dict[str, str]]:
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


def _ps_medications(frame: Frame, n: int) -> tuple[list[str], dict[str, str]]:
    urls, rows = [], []
    for _ in range(n):
        atc, name, strength = frame.chooser.choice(MEDICINES)
        started = frame.earlier(frame.chooser.integer(10, 2000)).isoformat()
        dose = dosage(frame, frame.chooser.integer(1, 2))
        urls.append(frame.add({
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": medication_concept(atc, name, strength),
            "subject": ref(frame.patient_url),
            "effectivePeriod": {"start": started},
            "dosage": [dose],
        }))
        rows.append((f"{name} {strength}", dose["text"], started))
    return urls, table_narrative("Medication summary", ("Medicine", "Dosage", "Since"), rows)


def _ps_procedures(frame: Frame, n: int) -> tuple[list[str], dict[str, str]]:
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


def _ps_devices(frame: Frame, n: int) -> tuple[list[str], dict[str, str]]:
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


def build(frame: Frame, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """IPS document; each required section has entries or an explicit emptyReason (ips-comp-1)."""
    builders: dict[str, Callable[[Frame, int], tuple[list[str], dict[str, str]]]] = {
        "allergies": _ps_allergies, "problems": _ps_problems, "medications": _ps_medications,
        "procedures": _ps_procedures, "devices": _ps_devices}
    sections = []
    for key, (code, display, title) in PS_SECTIONS.items():
        n = counts[key] if counts and key in counts else frame.chooser.integer(0, 3 if key in _IPS_REQUIRED else 2)
        if n:
            urls, text = builders[key](frame, n)
            sections.append(make_section(title, code, display, text, urls))
        else:
            sections.append(make_section(title, code, display, narrative(_PS_EMPTY_TEXT[key]), empty_reason=True))
    event = [{"code": [concept("http://terminology.hl7.org/CodeSystem/v3-ActClass", "PCPR")],
              "period": {"end": frame.instant()}}]
    return finish_document(frame, f"Patient Summary as of {frame.day.isoformat()}", sections, event=event)
