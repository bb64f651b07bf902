"""Shared vocabulary of the generated documents: code systems, identifier systems, the FHIR
datatype helpers every builder uses, and the code tables builders choose from (simplest first,
so hypothesis shrinks towards the first row).

Why one module: the six category builders and the readers share these; a code or system
written twice would drift (see conformance/categories.py for the category facts themselves).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Sequence
from typing import Any

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
ID_NAMESPACE = uuid.UUID("6f7c0c51-5b8e-4f0e-9a57-3c1f0e0d7e11")


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
