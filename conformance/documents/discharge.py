"""Hospital discharge report, tied to its inpatient Encounter.
"""

from __future__ import annotations

from typing import Any

from conformance.documents.common import (
    ENCOUNTER_ID_SYSTEM,
    HOSPITAL_COURSES,
    MEDICINES,
    PROBLEMS,
    SNOMED,
    coding,
    concept,
    narrative,
    ref,
    table_narrative,
)
from conformance.documents.frame import Frame, dosage, finish_document, make_section, medication_concept


def build(frame: Frame) -> dict[str, Any]:
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
        dose = dosage(frame, 1)
        med_urls.append(frame.add({
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": medication_concept(atc, name, strength),
            "subject": ref(frame.patient_url),
            "context": ref(encounter_url),
            "effectivePeriod": {"start": frame.day.isoformat()},
            "dosage": [dose],
        }))
        med_rows.append((f"{name} {strength}", dose["text"]))
    course = frame.chooser.choice(HOSPITAL_COURSES)
    sections = [
        make_section("Hospital course", "8648-8", "Hospital course Narrative",
                 narrative(f"Stay from {admitted.isoformat()} to {frame.day.isoformat()} ({stay} days).", course)),
        make_section("Discharge diagnosis", "11535-2", "Hospital discharge Dx Narrative",
                 table_narrative("Discharge diagnoses", ("Diagnosis",), diag_rows), diag_urls),
    ]
    if med_urls:
        sections.append(make_section("Discharge medications", "75311-1", "Discharge medications Narrative",
                                 table_narrative("Discharge medications", ("Medicine", "Dosage"), med_rows), med_urls))
    else:
        sections.append(make_section("Discharge medications", "75311-1", "Discharge medications Narrative",
                                 narrative("No medication at discharge."), empty_reason=True))
    return finish_document(frame, "Hospital discharge report", sections, encounter=ref(encounter_url))
