"""eDispensation: a dispensation of one prescribed item, carrying a copy of its prescription.
"""

from __future__ import annotations

from typing import Any

from conformance.documents.common import (
    DISPENSE_ID_SYSTEM,
    PRACTITIONER_ID_SYSTEM,
    PRACTITIONERS,
    UCUM,
    concept,
    ref,
    table_narrative,
)
from conformance.documents.eprescription import prescription_request
from conformance.documents.frame import Frame, finish_document, make_section
from conformance.errors import UsageError


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


def _copy_prescriber(frame: Frame, prescription: dict[str, Any], request: dict[str, Any]) -> str:
    """The prescriber travels with the prescription copy (MedicationRequest.requester is required)."""
    by_url = {e.get("fullUrl"): e.get("resource", {}) for e in prescription.get("entry", [])}
    prescriber = by_url.get((request.get("requester") or {}).get("reference"))
    if not prescriber or prescriber is None or not prescriber.get("resourceType"):
        return frame.author_url
    if (request.get("requester") or {}).get("reference") == frame.author_url:
        return frame.author_url
    return frame.add({k: v for k, v in prescriber.items() if k not in ("id", "meta", "text")})


def build(frame: Frame, prescription: dict[str, Any] | None) -> dict[str, Any]:
    """A dispensation of one prescribed item. The prescription (a copy of its MedicationRequest,
    same business identifier) travels in the document so authorizingPrescription resolves."""
    if prescription is None:
        rx_frame = Frame("eprescription", frame.ids, frame.chooser, frame.patient, frame.day, [{}])
        rx_frame.patient_url, rx_frame.author_url, rx_frame.org_url = frame.patient_url, frame.author_url, frame.org_url
        prescription_request(rx_frame)
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
    section = make_section("Dispensed medicines", "60590-7", "Medication dispensed.brief", text, [dispense_url])
    return finish_document(frame, "eDispensation", [section])
