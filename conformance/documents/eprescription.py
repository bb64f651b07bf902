"""ePrescription: one to three MedicationRequests, each with its Medication.

:func:`prescription_request` is shared with the eDispensation builder (a dispensation made
without a given prescription carries one made here).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conformance.documents.common import EDQM, MEDICINES, PRESCRIPTION_ID_SYSTEM, UCUM, concept, ref, table_narrative
from conformance.documents.frame import Frame, dosage, finish_document, make_section, medication_concept


def prescription_request(frame: Frame) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """Add one Medication and the MedicationRequest prescribing it; returns the request's fullUrl, the
    request, and its narrative row (medicine, dosage, quantity, prescription id)."""
    atc, name, strength = frame.chooser.choice(MEDICINES)
    count = frame.chooser.integer(1, 2)
    dose = dosage(frame, count)
    quantity = frame.chooser.choice((10, 20, 28, 30, 56, 60, 90, 100))
    medication_url = frame.add({
        "resourceType": "Medication",
        "code": medication_concept(atc, name, strength),
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


def build(frame: Frame) -> dict[str, Any]:
    """ePrescription document: one to three prescribed items in a "Prescribed medicines" section."""
    urls, rows = [], []
    for _ in range(frame.chooser.integer(1, 3)):
        url, _resource, row = prescription_request(frame)
        urls.append(url)
        rows.append(row)
    text = table_narrative("Prescribed medicines", ("Medicine", "Dosage", "Quantity", "Prescription id"), rows)
    section = make_section("Prescribed medicines", "57828-6", "Prescription list", text, urls)
    return finish_document(frame, "ePrescription", [section])
