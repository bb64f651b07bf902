"""Patient summary (Art 14(1)(a), Annex I point 1): the SUT accepts and exports IPS documents.

Profile checked: http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips (IPS 2.0.0), or
the one named in EHDS_CONFORMANCE_PROFILE_PATIENT_SUMMARY (e.g. an EU Patient Summary profile
the user installed). Every property runs over generated documents (conformance.strategies).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.adapter import Capability
from conformance.documents import PS_SECTIONS, composition, for_patient, resolve
from conformance.settings import example_scope, examples
from conformance.strategies import documents
from ehds_support.categories import export_only, submit_and_export
from conformance.strategies.semantics import narrative_text

CATEGORY = "patient-summary"
pytestmark = [pytest.mark.capability(Capability.SUBMIT, Capability.EXPORT), pytest.mark.category(CATEGORY)]


@pytest.fixture
def hp(sut, accounts):
    return sut.login(accounts.hp)


@pytest.mark.requirement("PS-001")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_summary_names_patient_author_and_date(hp, new_patient, fhir_validator, evidence, document):
    """Procedure: submit a generated patient summary and export it. Observed: the Composition's subject, author and
    date. Decides PS-001: the summary is about the patient in the document, says who authored it and when."""
    patient = new_patient()
    exported = export_only(hp, patient, document, evidence)
    comp = composition(exported)
    subject = resolve(exported, (comp.get("subject") or {}).get("reference", ""))
    assert subject is not None and subject.get("resourceType") == "Patient", \
        "the summary's Composition.subject does not resolve to a Patient in the document"
    assert comp.get("author"), "the summary names no author"
    assert comp.get("date"), "the summary has no date"


@pytest.mark.requirement("PS-002")
@settings(max_examples=examples(10))
@given(counts=st.fixed_dictionaries({key: st.integers(0, 2) for key in PS_SECTIONS}), data=st.data())
def test_required_sections_say_so_when_empty(hp, new_patient, evidence, counts, data):
    """Procedure: submit patient summaries generated with some required sections empty, export them. Observed: each
    required section's entries or empty reason. Decides PS-002: a required section without data says so
    (emptyReason) instead of disappearing."""
    patient = new_patient()
    sent = for_patient(data.draw(documents(CATEGORY, ps_counts=counts), label="document"), patient)
    with example_scope(evidence, "ps-required-sections").example(patient=patient.identifier, counts=counts):
        exported = submit_and_export(hp, sent, patient, CATEGORY)
        evidence.add("document", exported, label="exported summary")
        sections = {}
        for section in composition(exported).get("section") or []:
            for coding in (section.get("code") or {}).get("coding") or []:
                if coding.get("system") == "http://loinc.org":
                    sections[coding.get("code")] = section
        for key, (code, display, _title) in PS_SECTIONS.items():
            section = sections.get(code)
            assert section is not None, f"the exported summary has no {display} section (LOINC {code})"
            assert narrative_text((section.get("text") or {}).get("div", "")), \
                f"the {display} section (LOINC {code}) has no narrative"
            entries = section.get("entry") or []
            if counts[key]:
                assert entries, f"the {display} section lost its {counts[key]} entr(y/ies) on export"
            else:
                assert entries or section.get("emptyReason"), (
                    f"the {display} section (LOINC {code}) is empty without saying so: no entries and no "
                    f"emptyReason (an explicit 'no information' is required)")
