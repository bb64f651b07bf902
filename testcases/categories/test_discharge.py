"""Hospital discharge reports (Art 14(1)(f)): the SUT accepts and exports discharge reports tied to the stay.

Profile checked: https://ehds-conformance.invalid/fhir/ehds-minimal/StructureDefinition/Bundle-discharge-ehds-min
(a minimal stand-in written from HL7 Europe HDR 1.0.0-ci; set EHDS_CONFORMANCE_PROFILE_DISCHARGE to check an
official profile instead).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from conformance.adapter import Capability
from conformance.documents import composition, for_patient, resolve, resources
from conformance.settings import example_scope, examples
from conformance.strategies import documents
from ehds_support.categories import export_only, submit_and_export
from conformance.strategies.semantics import narrative_text

CATEGORY = "discharge"
pytestmark = [pytest.mark.capability(Capability.SUBMIT, Capability.EXPORT), pytest.mark.category(CATEGORY)]
HOSPITAL_COURSE, DIAGNOSES, MEDICATIONS = "8648-8", "11535-2", "75311-1"


@pytest.fixture
def hp(sut, accounts):
    return sut.login(accounts.hp)


def _sections(bundle) -> dict[str, dict]:
    out = {}
    for section in composition(bundle).get("section") or []:
        for coding in (section.get("code") or {}).get("coding") or []:
            if coding.get("system") == "http://loinc.org":
                out[coding.get("code")] = section
    return out


@pytest.mark.requirement("HDR-001")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_discharge_report_is_tied_to_its_stay(hp, new_patient, fhir_validator, evidence, document):
    """Procedure: submit a generated discharge report, export it, and read the export's Composition. Observed: its
    LOINC type, its encounter and whose stay it is, the hospital course section. Decides HDR-001: the report is
    typed 34105-7, tied to an Encounter of the same patient, with a narrative hospital course."""
    exported = export_only(hp, new_patient(), document, evidence)
    comp = composition(exported)
    codes = {c.get("code") for c in (comp.get("type") or {}).get("coding") or []}
    assert "34105-7" in codes, f"the discharge report is typed {sorted(codes)}, not LOINC 34105-7"
    encounter = resolve(exported, (comp.get("encounter") or {}).get("reference", ""))
    assert encounter and encounter.get("resourceType") == "Encounter", \
        "the discharge report is not tied to its encounter (Composition.encounter does not resolve to an Encounter)"
    patient = resolve(exported, (comp.get("subject") or {}).get("reference", ""))
    assert resolve(exported, (encounter.get("subject") or {}).get("reference", "")) is patient, \
        "the encounter of the discharge report is about another patient"
    course = _sections(exported).get(HOSPITAL_COURSE)
    assert course and narrative_text((course.get("text") or {}).get("div", "")), \
        "the discharge report has no hospital course section (LOINC 8648-8) with narrative"


@pytest.mark.requirement("HDR-002")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_discharge_content_is_present_when_there_is_data(hp, new_patient, evidence, document):
    """Procedure: submit discharge reports generated with and without diagnoses and discharge medication, export each.
    Observed: the diagnosis and medication sections, their entries, the diagnoses' encounter. Decides HDR-002: every
    diagnosis and discharge medication sent is listed in its section, diagnoses belong to this stay, and the report
    carries its Encounter."""
    patient = new_patient()
    sent = for_patient(document, patient)
    sent_sections = _sections(sent)
    with example_scope(evidence, "hdr-content").example(patient=patient.identifier):
        exported = submit_and_export(hp, sent, patient, CATEGORY)
        got = _sections(exported)
        for code, label in ((DIAGNOSES, "discharge diagnosis"), (MEDICATIONS, "discharge medications")):
            had = len((sent_sections.get(code) or {}).get("entry") or [])
            if not had:
                continue
            section = got.get(code)
            assert section is not None, f"the {label} section (LOINC {code}) is missing although there is data"
            entries = [resolve(exported, e.get("reference", "")) for e in section.get("entry") or []]
            assert len([e for e in entries if e]) >= had, \
                f"the {label} section (LOINC {code}) lists {len(entries)} of the {had} entries sent"
        diagnoses = [resolve(exported, e.get("reference", "")) for e in (got.get(DIAGNOSES) or {}).get("entry") or []]
        encounter = composition(exported).get("encounter")
        for condition in [d for d in diagnoses if d]:
            if condition.get("encounter"):
                assert condition["encounter"] == encounter, "a discharge diagnosis belongs to another encounter"
        assert resources(exported, "Encounter"), "the discharge report carries no Encounter"
