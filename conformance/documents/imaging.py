"""Imaging report: a DiagnosticReport pointing at an ImagingStudy with a DICOM study UID.
"""

from __future__ import annotations

from typing import Any

from conformance.documents.common import (
    DICOM_DCM,
    DICOM_UID_SYSTEM,
    IMAGING_CONCLUSIONS,
    IMAGING_PROCEDURES,
    LOINC,
    MODALITIES,
    ORDER_ID_SYSTEM,
    coding,
    concept,
    narrative,
    ref,
)
from conformance.documents.frame import Frame, finish_document, make_section


def build(frame: Frame) -> dict[str, Any]:
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
        make_section("Findings", "59776-5", "Procedure Findings Narrative", findings, [report_url]),
        make_section("Impression", "19005-8", "Radiology Imaging study [Impression] (narrative)", narrative(conclusion)),
    ]
    return finish_document(frame, f"Imaging report: {display}", sections)
