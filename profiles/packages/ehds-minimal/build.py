"""Writes the StructureDefinitions of the ehds-minimal package (run: python build.py).

Why a script: the profiles are minimal stand-ins for HL7 Europe packages we cannot ship
(MPD, Laboratory, Imaging, HDR). Keeping them as data built from this one readable table
makes every rule traceable to the published requirement it paraphrases, and keeps the JSON
consistent (ids, urls, versions, descriptions). The output under package/ is committed;
the harness never runs this script.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

CANONICAL = "https://ehds-conformance.invalid/fhir/ehds-minimal"
SD = f"{CANONICAL}/StructureDefinition"
VERSION = "0.1.0"
CORE = "http://hl7.org/fhir/StructureDefinition"
LOINC = "http://loinc.org"

STAND_IN = (
    " This is a MINIMAL STAND-IN written by the ehds-conformance project from the published requirements of"
    " {source}; it is not the official profile. It checks only the rules listed here. Install the official"
    " package ({package}) with `conformance packages add` and select its profile to check against it instead."
)

SOURCES = {
    "common": ("HL7 Europe Base (patient-eu-core)", "hl7.fhir.eu.base#2.0.0"),
    "mpd": ("HL7 Europe Medication Prescription and Dispense (MPD) 1.0.0", "hl7.fhir.eu.mpd#1.0.0"),
    "lab": ("HL7 Europe Laboratory Report 2.0.0", "hl7.fhir.eu.laboratory#2.0.0"),
    "img": ("HL7 Europe Imaging Report 1.0.0-ballot", "hl7.fhir.eu.imaging#1.0.0-ballot"),
    "hdr": ("HL7 Europe Hospital Discharge Report 1.0.0-ci", "hl7.fhir.eu.hdr#1.0.0-ci"),
}


def cc(code: str, system: str = LOINC) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def el(path: str, **kw: Any) -> dict[str, Any]:
    """One differential element. `path` may name slices (``Bundle.entry:composition.resource``); the
    element id keeps them, the path drops them. ``slice=`` makes the element a slice of ``path``."""
    slice_name = kw.pop("slice", None)
    eid = f"{path}:{slice_name}" if slice_name else path
    out: dict[str, Any] = {"id": eid, "path": re.sub(r":[^.]+", "", eid)}
    if slice_name:
        out["sliceName"] = slice_name
    for key in ("min", "max"):
        if key in kw:
            out[key] = kw.pop(key)
    out.update(kw)
    return out


def req(path: str, n: int = 1, **kw: Any) -> dict[str, Any]:
    return el(path, min=n, **kw)


def inv(key: str, human: str, expression: str, url: str) -> dict[str, Any]:
    return {"key": key, "severity": "error", "human": human, "expression": expression, "source": url}


def ref_type(*targets: str) -> list[dict[str, Any]]:
    return [{"code": "Reference", "targetProfile": list(targets)}]


def sd(sd_id: str, base_type: str, title: str, purpose: str, source: str, elements: list[dict[str, Any]],
       root_constraints: list[dict[str, Any]] = (), kind: str = "resource", base: str | None = None,
       context: list[dict[str, str]] | None = None) -> dict[str, Any]:
    url = f"{SD}/{sd_id}"
    src, package = SOURCES[source]
    root = {"id": base_type, "path": base_type}
    if root_constraints:
        root["constraint"] = [dict(c, source=url) for c in root_constraints]
    out: dict[str, Any] = {
        "resourceType": "StructureDefinition",
        "id": sd_id,
        "url": url,
        "version": VERSION,
        "name": "".join(p[:1].upper() + p[1:] for p in sd_id.replace("-", " ").split()),
        "title": title,
        "status": "draft",
        "experimental": True,
        "publisher": "ehds-conformance project",
        "description": purpose + STAND_IN.format(source=src, package=package),
        "fhirVersion": "4.0.1",
        "kind": kind,
        "abstract": False,
    }
    if context:
        out["context"] = context
    out.update({
        "type": base_type,
        "baseDefinition": base or f"{CORE}/{base_type}",
        "derivation": "constraint",
        "differential": {"element": [root, *elements]},
    })
    return out


def bundle(sd_id: str, title: str, purpose: str, source: str, composition: str,
           slices: list[tuple[str, str, str | None, int, str]], constraints: list[dict[str, Any]]) -> dict[str, Any]:
    """A document Bundle: Composition first, typed entry slices (name, type, profile, min, max)."""
    elements = [
        req("Bundle.identifier"),
        req("Bundle.type", fixedCode="document"),
        req("Bundle.timestamp"),
        req("Bundle.entry", 2, slicing={"discriminator": [{"type": "type", "path": "resource"}], "rules": "open",
                                        "description": "Entries sliced by resource type"}),
        req("Bundle.entry.fullUrl"),
        req("Bundle.entry.resource"),
        el("Bundle.entry.search", max="0"),
        el("Bundle.entry.request", max="0"),
        el("Bundle.entry.response", max="0"),
    ]
    all_slices = [("composition", "Composition", composition, 1, "1"), ("patient", "Patient", f"{SD}/Patient-ehds-min",
                                                                        1, "1"), *slices]
    for name, rtype, profile, low, high in all_slices:
        elements.append(el("Bundle.entry", slice=name, min=low, max=high))
        type_ref: dict[str, Any] = {"code": rtype}
        if profile:
            type_ref["profile"] = [profile]
        elements.append(req(f"Bundle.entry:{name}.resource",
                            type=[type_ref]))
    first = inv("ehds-doc-1", "The first entry is the document's Composition, and there is only one Composition",
                "entry.first().resource.is(Composition) and entry.where(resource is Composition).count() = 1", "")
    subject = inv("ehds-doc-2", "The Composition's subject resolves to the Patient in the Bundle",
                  "entry.first().resource.subject.reference.subsetOf(%context.entry.where(resource is Patient).fullUrl)", "")
    return sd(sd_id, "Bundle", title, purpose, source, elements, [first, subject, *constraints])


def composition(sd_id: str, title: str, purpose: str, source: str, type_code: str,
                sections: list[tuple[str, str, int, str, list[str] | None]], extra: list[dict[str, Any]] = (),
                constraints: list[dict[str, Any]] = ()) -> dict[str, Any]:
    """Sections: (slice name, LOINC, min, max, entry target types or None for narrative only)."""
    elements = [
        req("Composition.identifier"),
        req("Composition.type", patternCodeableConcept=cc(type_code)),
        req("Composition.subject", type=ref_type(f"{SD}/Patient-ehds-min")),
        req("Composition.subject.reference"),
        req("Composition.date"),
        req("Composition.author"),
        req("Composition.title"),
        *extra,
        req("Composition.section", slicing={"discriminator": [{"type": "pattern", "path": "code"}], "rules": "open",
                                            "description": "Sections identified by their LOINC code"}),
        req("Composition.section.title"),
        req("Composition.section.code"),
        req("Composition.section.text"),
    ]
    for name, code, low, high, targets in sections:
        elements.append(el("Composition.section", slice=name, min=low, max=high))
        elements.append(req(f"Composition.section:{name}.code",
                            patternCodeableConcept=cc(code)))
        if targets:
            elements.append(el(f"Composition.section:{name}.entry",
                               type=ref_type(*targets)))
    return sd(sd_id, "Composition", title, purpose, source, elements, list(constraints))


def build() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # ---- common -------------------------------------------------------------------------
    out.append(sd("Patient-ehds-min", "Patient", "Patient (EHDS minimal)",
                  "A patient identified by at least one business identifier, with a name and a birth date, as the"
                  " EU base patient requires for cross-border identification.", "common", [
                      req("Patient.identifier"), req("Patient.identifier.system"), req("Patient.identifier.value"),
                      req("Patient.name"), req("Patient.birthDate")],
                  [inv("ehds-pat-1", "Every name has a family or given part or a text",
                       "name.all(family.exists() or given.exists() or text.exists())", "")]))
    # ---- ePrescription ------------------------------------------------------------------
    out.append(sd("Medication-ehds-min", "Medication", "Medication (EHDS minimal)",
                  "A medicinal product identified by a code (MPD Medication-eu-mpd).", "mpd",
                  [req("Medication.code")]))
    out.append(sd("MedicationRequest-ehds-min", "MedicationRequest", "Prescription line (EHDS minimal)",
                  "One prescribed item: identifier, status, intent, medication, subject, date, prescriber and dosage"
                  " (MPD MedicationRequest-eu-mpd; EP-001).", "mpd", [
                      req("MedicationRequest.identifier"),
                      req("MedicationRequest.medication[x]"),
                      req("MedicationRequest.subject", type=ref_type(f"{SD}/Patient-ehds-min")),
                      req("MedicationRequest.authoredOn"),
                      req("MedicationRequest.requester"),
                      req("MedicationRequest.dosageInstruction"),
                  ]))
    out.append(composition(
        "Composition-eprescription-ehds-min", "ePrescription Composition (EHDS minimal)",
        "An ePrescription document (LOINC 57833-6) whose prescriptions section lists the prescribed items.",
        "mpd", "57833-6",
        [("prescriptions", "57828-6", 1, "1", [f"{SD}/MedicationRequest-ehds-min"])],
        constraints=[inv("ehds-ep-1", "The prescriptions section lists at least one prescription",
                         "section.where(code.coding.where(system='http://loinc.org' and code='57828-6').exists())"
                         ".entry.exists()", "")]))
    out.append(bundle(
        "Bundle-eprescription-ehds-min", "ePrescription document (EHDS minimal)",
        "A FHIR document carrying one ePrescription (EP-001).", "mpd",
        f"{SD}/Composition-eprescription-ehds-min",
        [("medicationrequest", "MedicationRequest", f"{SD}/MedicationRequest-ehds-min", 1, "*"),
         ("medication", "Medication", f"{SD}/Medication-ehds-min", 0, "*")],
        [inv("ehds-ep-2", "Every prescription's medication reference resolves inside the document",
             "entry.resource.ofType(MedicationRequest).medication.ofType(Reference).reference"
             ".subsetOf(%context.entry.where(resource is Medication).fullUrl)", "")]))
    # ---- eDispensation ------------------------------------------------------------------
    out.append(sd("MedicationDispense-ehds-min", "MedicationDispense", "Dispensation (EHDS minimal)",
                  "One dispensed item: identifier, status, medication, subject, performer, the authorizing"
                  " prescription, quantity and hand-over time (MPD MedicationDispense-eu-mpd; ED-001).", "mpd", [
                      req("MedicationDispense.identifier"),
                      req("MedicationDispense.medication[x]"),
                      req("MedicationDispense.subject", type=ref_type(f"{SD}/Patient-ehds-min")),
                      req("MedicationDispense.performer"),
                      req("MedicationDispense.authorizingPrescription"),
                      req("MedicationDispense.quantity"),
                      req("MedicationDispense.quantity.value"),
                      req("MedicationDispense.whenHandedOver"),
                  ]))
    out.append(composition(
        "Composition-edispensation-ehds-min", "eDispensation Composition (EHDS minimal)",
        "An eDispensation document (LOINC 60593-1) whose dispensed-medication section lists the dispensations.",
        "mpd", "60593-1",
        [("dispensations", "60590-7", 1, "1", [f"{CORE}/MedicationDispense"])]))
    out.append(bundle(
        "Bundle-edispensation-ehds-min", "eDispensation document (EHDS minimal)",
        "A FHIR document carrying one eDispensation with the prescription it dispenses (ED-001, ED-002).", "mpd",
        f"{SD}/Composition-edispensation-ehds-min",
        [("medicationdispense", "MedicationDispense", f"{SD}/MedicationDispense-ehds-min", 1, "*"),
         ("medicationrequest", "MedicationRequest", f"{SD}/MedicationRequest-ehds-min", 1, "*"),
         ("medication", "Medication", f"{SD}/Medication-ehds-min", 0, "*")],
        [inv("ehds-ed-1", "Every dispensation's authorizingPrescription resolves to a MedicationRequest in the"
             " document", "entry.resource.ofType(MedicationDispense).authorizingPrescription.reference"
             ".subsetOf(%context.entry.where(resource is MedicationRequest).fullUrl)", "")]))
    # ---- laboratory ---------------------------------------------------------------------
    out.append(sd("composition-diagnostic-report", "Extension", "Composition: its DiagnosticReport",
                  "Links a laboratory report Composition to the DiagnosticReport it presents (as HL7 Europe"
                  " Laboratory's composition-diagnosticReportReference does).", "lab", [
                      el("Extension.extension", max="0"),
                      el("Extension.url", fixedUri=f"{SD}/composition-diagnostic-report"),
                      req("Extension.value[x]", type=ref_type(f"{CORE}/DiagnosticReport")),
                  ], kind="complex-type", context=[{"type": "element", "expression": "Composition"}]))
    out.append(sd("Observation-laboratory-ehds-min", "Observation", "Laboratory result (EHDS minimal)",
                  "A laboratory result with code, subject and time; it carries a value, member results or components,"
                  " or says why the value is absent, unless only registered or cancelled (LAB-002, eu-lab-1).",
                  "lab", [
                      req("Observation.subject", type=ref_type(f"{SD}/Patient-ehds-min")),
                      req("Observation.effective[x]"),
                  ],
                  [inv("ehds-lab-obs-1", "A result has a value, members, components or a dataAbsentReason unless"
                       " registered or cancelled",
                       "value.exists() or hasMember.exists() or component.exists() or dataAbsentReason.exists()"
                       " or status = 'registered' or status = 'cancelled'", "")]))
    out.append(sd("DiagnosticReport-laboratory-ehds-min", "DiagnosticReport", "Laboratory DiagnosticReport (EHDS"
                  " minimal)", "The report of a laboratory document: identifier, LOINC 11502-2, subject, issue time and"
                  " its results (LAB-001).", "lab", [
                      req("DiagnosticReport.identifier"),
                      req("DiagnosticReport.code", patternCodeableConcept=cc("11502-2")),
                      req("DiagnosticReport.subject", type=ref_type(f"{SD}/Patient-ehds-min")),
                      req("DiagnosticReport.issued"),
                      req("DiagnosticReport.result",
                          type=ref_type(f"{SD}/Observation-laboratory-ehds-min")),
                  ]))
    out.append(composition(
        "Composition-laboratory-ehds-min", "Laboratory report Composition (EHDS minimal)",
        "A laboratory report document (LOINC 11502-2) linked to its DiagnosticReport, listing the results.",
        "lab", "11502-2",
        [("results", "26436-6", 1, "1", [f"{SD}/Observation-laboratory-ehds-min"])],
        extra=[req("Composition.extension", slicing={"discriminator": [{"type": "value", "path": "url"}],
                                                     "rules": "open"}),
               el("Composition.extension", slice="diagnosticReport", min=1, max="1",
                  type=[{"code": "Extension", "profile": [f"{SD}/composition-diagnostic-report"]}])]))
    lab_dr = "entry.resource.ofType(DiagnosticReport)"
    lab_comp = "entry.resource.ofType(Composition)"
    out.append(bundle(
        "Bundle-laboratory-ehds-min", "Laboratory report document (EHDS minimal)",
        "A FHIR document with exactly one Composition and one DiagnosticReport that agree on subject, type,"
        " identifier and results (LAB-001, after Bundle-eu-lab one-comp / one-dr / dr-comp-*).", "lab",
        f"{SD}/Composition-laboratory-ehds-min",
        [("diagnosticreport", "DiagnosticReport", f"{SD}/DiagnosticReport-laboratory-ehds-min", 1, "1"),
         ("observation", "Observation", f"{SD}/Observation-laboratory-ehds-min", 1, "*")],
        [inv("ehds-lab-1", "Exactly one DiagnosticReport", "entry.where(resource is DiagnosticReport).count() = 1",
             ""),
         inv("ehds-lab-2", "The DiagnosticReport and the Composition have the same subject",
             f"{lab_dr}.subject.reference = {lab_comp}.subject.reference", ""),
         inv("ehds-lab-3", "The DiagnosticReport carries the Composition's identifier",
             f"{lab_comp}.identifier.value.subsetOf(%context.{lab_dr}.identifier.value)", ""),
         inv("ehds-lab-4", "The DiagnosticReport's results are exactly the results the Composition lists",
             f"{lab_dr}.result.reference.subsetOf(%context.{lab_comp}.section.entry.reference) and "
             f"{lab_comp}.section.entry.reference.subsetOf(%context.{lab_dr}.result.reference)", ""),
         inv("ehds-lab-5", "The Composition's diagnosticReport extension points at the DiagnosticReport",
             f"{lab_comp}.extension.where(url = '{SD}/composition-diagnostic-report').value.reference"
             ".subsetOf(%context.entry.where(resource is DiagnosticReport).fullUrl)", "")]))
    # ---- imaging ------------------------------------------------------------------------
    out.append(sd("ImagingStudy-ehds-min", "ImagingStudy", "Imaging study (EHDS minimal)",
                  "An imaging study identified by its DICOM Study Instance UID (urn:dicom:uid, urn:oid: value), as"
                  " HL7 Europe Imaging's StudyInstanceUidIdentifierEuImaging requires (IMG-001).", "img", [
                      req("ImagingStudy.identifier"),
                      req("ImagingStudy.subject", type=ref_type(f"{SD}/Patient-ehds-min")),
                  ],
                  [inv("ehds-img-study-1", "The study carries its DICOM Study Instance UID",
                       "identifier.where(system = 'urn:dicom:uid' and value.matches('^urn:oid:[0-2]([.](0|[1-9][0-9]*))+$'))"
                       ".exists()", "")]))
    out.append(sd("DiagnosticReport-imaging-ehds-min", "DiagnosticReport", "Imaging DiagnosticReport (EHDS minimal)",
                  "The report of an imaging document: subject, issue time, conclusion and the study it reports on.",
                  "img", [
                      req("DiagnosticReport.subject", type=ref_type(f"{SD}/Patient-ehds-min")),
                      req("DiagnosticReport.issued"),
                      req("DiagnosticReport.imagingStudy", type=ref_type(f"{SD}/ImagingStudy-ehds-min")),
                  ]))
    out.append(composition(
        "Composition-imaging-ehds-min", "Imaging report Composition (EHDS minimal)",
        "An imaging report document (LOINC 85430-7) with a findings section presenting the DiagnosticReport.",
        "img", "85430-7",
        [("findings", "59776-5", 1, "1", [f"{SD}/DiagnosticReport-imaging-ehds-min"]),
         ("impression", "19005-8", 0, "1", None)]))
    out.append(bundle(
        "Bundle-imaging-ehds-min", "Imaging report document (EHDS minimal)",
        "A FHIR document with one imaging DiagnosticReport whose study resolves inside the document (IMG-001).",
        "img", f"{SD}/Composition-imaging-ehds-min",
        [("diagnosticreport", "DiagnosticReport", f"{SD}/DiagnosticReport-imaging-ehds-min", 1, "1"),
         ("imagingstudy", "ImagingStudy", f"{SD}/ImagingStudy-ehds-min", 1, "*")],
        [inv("ehds-img-1", "The report's imagingStudy references resolve to ImagingStudy entries",
             "entry.resource.ofType(DiagnosticReport).imagingStudy.reference"
             ".subsetOf(%context.entry.where(resource is ImagingStudy).fullUrl)", "")]))
    # ---- discharge ----------------------------------------------------------------------
    out.append(sd("Encounter-discharge-ehds-min", "Encounter", "Hospital stay (EHDS minimal)",
                  "The inpatient encounter a discharge report is about: identifier, subject and period with start"
                  " and end (HDR encounter-eu-hdr).", "hdr", [
                      req("Encounter.identifier"),
                      req("Encounter.subject", type=ref_type(f"{SD}/Patient-ehds-min")),
                      req("Encounter.period"), req("Encounter.period.start"), req("Encounter.period.end"),
                  ]))
    out.append(composition(
        "Composition-discharge-ehds-min", "Hospital discharge report Composition (EHDS minimal)",
        "A discharge report (LOINC 34105-7) tied to its encounter, with a hospital course section (HDR-001)"
        " and optional discharge diagnosis and discharge medication sections (HDR-002).", "hdr", "34105-7",
        [("hospitalCourse", "8648-8", 1, "1", None),
         ("dischargeDiagnosis", "11535-2", 0, "1", [f"{CORE}/Condition"]),
         ("dischargeMedications", "75311-1", 0, "1", [f"{CORE}/MedicationStatement", f"{CORE}/MedicationRequest"])],
        extra=[req("Composition.encounter", type=ref_type(f"{SD}/Encounter-discharge-ehds-min")),
               req("Composition.encounter.reference")]))
    out.append(bundle(
        "Bundle-discharge-ehds-min", "Hospital discharge report document (EHDS minimal)",
        "A FHIR document whose Composition's encounter resolves to the Encounter in the document, about the same"
        " patient (HDR-001).", "hdr", f"{SD}/Composition-discharge-ehds-min",
        [("encounter", "Encounter", f"{SD}/Encounter-discharge-ehds-min", 1, "1")],
        [inv("ehds-hdr-1", "The Composition's encounter resolves to the Encounter in the document",
             "entry.first().resource.encounter.reference.subsetOf(%context.entry.where(resource is Encounter).fullUrl)", ""),
         inv("ehds-hdr-2", "The Encounter is about the document's patient",
             "entry.resource.ofType(Encounter).subject.reference = entry.first().resource.subject.reference", "")]))
    return out


def main() -> None:
    target = Path(__file__).resolve().parent / "package"
    target.mkdir(exist_ok=True)
    for old in target.glob("StructureDefinition-*.json"):
        old.unlink()
    for resource in build():
        path = target / f"StructureDefinition-{resource['id']}.json"
        path.write_text(json.dumps(resource, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest = {
        "name": "ehds.conformance.minimal",
        "version": VERSION,
        "type": "IG",
        "canonical": CANONICAL,
        "title": "EHDS minimal stand-in profiles (ehds-conformance)",
        "description": "Minimal stand-ins for the HL7 Europe MPD, Laboratory, Imaging and Hospital Discharge Report"
                       " profiles, written by the ehds-conformance project from their published requirements so that"
                       " the harness can check these priority categories offline. Not the official packages: install"
                       " those with `conformance packages add` to check against them.",
        "license": "Apache-2.0",
        "fhirVersions": ["4.0.1"],
        "dependencies": {"hl7.fhir.r4.core": "4.0.1"},
        "author": "ehds-conformance project",
    }
    (target / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
