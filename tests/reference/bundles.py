"""Minimal document Bundles and CDA documents for testing the reference EHR.

Deliberately small and written out by hand (not generated), so a test reads
exactly what the EHR received. The harness's real documents come from
``conformance.documents``; these only need to pass the reference EHR's own
structural checks.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from typing import Any

LOINC = {
    "patient-summary": ("60591-5", "Patient summary"),
    "eprescription": ("57833-6", "Prescription"),
    "edispensation": ("60593-1", "Dispensation"),
    "laboratory": ("11502-2", "Laboratory report"),
    "imaging": ("18748-4", "Diagnostic imaging report"),
    "discharge": ("18842-5", "Discharge summary"),
}
PATIENT_SYSTEM = "https://ehds-conformance.invalid/test-patient"
DEFAULT_ORG = ("https://ehds-conformance.invalid/test-org", "origin-hospital", "Origin Hospital")
_counter = itertools.count(1)


def new_patient_identifier() -> str:
    """A fresh 'system|value' no other test uses."""
    return f"{PATIENT_SYSTEM}|p{next(_counter)}-{uuid.uuid4().hex[:8]}"


def document(category: str, patient_identifier: str, *, family: str = "Tester", given: str = "Tess",
             custodian: tuple[str, str, str] = DEFAULT_ORG, title: str | None = None) -> dict[str, Any]:
    """A minimal, structurally valid FHIR document Bundle of `category` for the patient."""
    code, display = LOINC[category]
    system, _, value = patient_identifier.partition("|")
    org_system, org_value, org_name = custodian
    ids = {k: str(uuid.uuid4()) for k in ("bundle", "comp", "pat", "org", "obs")}
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{ids['bundle']}"},
        "type": "document",
        "timestamp": "2025-03-01T10:00:00+01:00",
        "entry": [
            {"fullUrl": f"urn:uuid:{ids['comp']}", "resource": {
                "resourceType": "Composition", "id": ids["comp"], "status": "final",
                "type": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
                "subject": {"reference": f"urn:uuid:{ids['pat']}"},
                "date": "2025-03-01T10:00:00+01:00",
                "author": [{"reference": f"urn:uuid:{ids['org']}"}],
                "title": title or display,
                "custodian": {"reference": f"urn:uuid:{ids['org']}"},
                "section": [{"title": "Findings", "text": {"status": "generated",
                             "div": '<div xmlns="http://www.w3.org/1999/xhtml">Findings</div>'},
                             "entry": [{"reference": f"urn:uuid:{ids['obs']}"}]}],
            }},
            {"fullUrl": f"urn:uuid:{ids['pat']}", "resource": {
                "resourceType": "Patient", "id": ids["pat"],
                "identifier": [{"system": system, "value": value}],
                "name": [{"family": family, "given": [given]}], "birthDate": "1980-04-12",
            }},
            {"fullUrl": f"urn:uuid:{ids['org']}", "resource": {
                "resourceType": "Organization", "id": ids["org"],
                "identifier": [{"system": org_system, "value": org_value}], "name": org_name,
            }},
            {"fullUrl": f"urn:uuid:{ids['obs']}", "resource": {
                "resourceType": "Observation", "id": ids["obs"], "status": "final",
                "code": {"text": "Observation"}, "subject": {"reference": f"urn:uuid:{ids['pat']}"},
                "valueString": "normal",
            }},
        ],
    }


def broken(bundle: dict[str, Any], how: str) -> dict[str, Any]:
    """A copy of `bundle` with one named defect."""
    out = copy.deepcopy(bundle)
    if how == "collection":
        out["type"] = "collection"
    elif how == "no-composition-first":
        out["entry"].append(out["entry"].pop(0))
    elif how == "dangling-reference":
        out["entry"][0]["resource"]["section"][0]["entry"][0]["reference"] = "urn:uuid:does-not-exist"
    elif how == "patient-without-identifier":
        del out["entry"][1]["resource"]["identifier"]
    elif how == "unknown-type":
        out["entry"][0]["resource"]["type"]["coding"][0]["code"] = "11488-4"
    elif how == "no-identifier":
        del out["identifier"]
    elif how == "bad-status":
        out["entry"][0]["resource"]["status"] = "not-a-status"
    elif how == "bad-bundle-type":
        out["type"] = "pamphlet"
    elif how == "no-title":
        del out["entry"][0]["resource"]["title"]
    else:
        raise ValueError(how)
    return out


DEFECTS = ("collection", "no-composition-first", "dangling-reference", "patient-without-identifier",
           "unknown-type", "no-identifier", "no-title", "bad-status", "bad-bundle-type")


def cda(patient_root: str, patient_extension: str, *, code: str = "60591-5") -> bytes:
    """A minimal CDA R2 header (enough for the EHR to file it)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="2.25.{uuid.uuid4().int}"/>
  <code code="{code}" codeSystem="2.16.840.1.113883.6.1" displayName="Patient summary"/>
  <title>Patient Summary (CDA)</title>
  <effectiveTime value="20250301100000+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <recordTarget><patientRole>
    <id root="{patient_root}" extension="{patient_extension}"/>
    <patient><name><given>Carla</given><family>Dias</family></name><birthTime value="19750102"/></patient>
  </patientRole></recordTarget>
  <custodian><assignedCustodian><representedCustodianOrganization>
    <id root="1.2.3.999" extension="cda-org"/><name>CDA Clinic</name>
  </representedCustodianOrganization></assignedCustodian></custodian>
</ClinicalDocument>
""".encode()
