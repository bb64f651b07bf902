"""The three properties every priority category shares, one parametrized check each.

For each of the six priority categories the SUT declares (marker ``category``: a
category the SUT does not handle is excluded by the profile's scope rule, verdict
not-applicable with the reason):
- EHDS-INT-005: what the SUT exports validates against the category's document profile;
- EHDS-INT-008: import then export keeps the clinical meaning;
- EHDS-INT-012: a document with one rule broken is refused with a reason and nothing of it is kept.
The category-specific content requirements (PS-001, EP-001, ...) live in the category's own module.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.adapter import Capability
from conformance.categories import PRIORITY_CATEGORIES
from conformance.documents import for_patient
from conformance.settings import examples
from conformance.strategies import MUTATION_KINDS, documents, mutations
from ehds_support.categories import export_conforms, invalid_is_rejected, round_trip_keeps_meaning

pytestmark = pytest.mark.capability(Capability.SUBMIT, Capability.EXPORT)

#: Short names used in evidence labels (stable across runs: they are part of the recorded evidence).
SHORT = {"patient-summary": "ps", "eprescription": "ep", "edispensation": "ed", "laboratory": "lab",
         "imaging": "img", "discharge": "hdr"}
#: A dispensation refers to its prescription: the SUT must handle both.
NEEDS = {"edispensation": ("eprescription",)}


def _param(category: str):
    return pytest.param(category, marks=pytest.mark.category(category, *NEEDS.get(category, ())), id=category)


CATEGORIES = [_param(c) for c in PRIORITY_CATEGORIES]


@pytest.fixture
def hp(sut, accounts):
    return sut.login(accounts.hp)


@pytest.mark.requirement("EHDS-INT-005")
@pytest.mark.parametrize("category", CATEGORIES)
@settings(max_examples=examples(10))
@given(data=st.data())
def test_export_conforms_to_the_category_profile(hp, new_patient, fhir_validator, evidence, category, data):
    """Procedure: generate a valid document of the category (hypothesis, derandomized), submit it as a
    health professional, export the patient's document of that category, and validate the export against
    the category's document Bundle profile offline. Observed: the validation issues. Decides EHDS-INT-005
    because the requirement is that exchanged data follows the European exchange format: any error fails it."""
    document = data.draw(documents(category), label="document")
    export_conforms(hp=hp, patient=new_patient(), document=document, category=category, validator=fhir_validator,
                    evidence=evidence, prop=f"{SHORT[category]}-export-conforms")


@pytest.mark.requirement("EHDS-INT-008")
@pytest.mark.parametrize("category", CATEGORIES)
@settings(max_examples=examples(10))
@given(data=st.data())
def test_round_trip_keeps_meaning(hp, new_patient, evidence, category, data):
    """Procedure: submit a generated valid document, export it again, and compare both semantically
    (codes, dates, quantities, identifiers, references, narrative). Observed: every loss or change of meaning.
    Decides EHDS-INT-008: data received must be kept and returned without loss of meaning."""
    document = data.draw(documents(category), label="document")
    round_trip_keeps_meaning(hp=hp, patient=new_patient(), document=document, category=category,
                             evidence=evidence, prop=f"{SHORT[category]}-round-trip")


@pytest.mark.requirement("EHDS-INT-012")
@pytest.mark.parametrize("kind", MUTATION_KINDS)
@pytest.mark.parametrize("category", CATEGORIES)
@settings(max_examples=examples(5))
@given(data=st.data())
def test_invalid_document_is_rejected(hp, new_patient, fhir_validator, evidence, category, kind, data):
    """Procedure: take a generated valid document, break exactly one rule of the given kind (the validator
    confirms the mutant is invalid), submit it. Observed: the answer and the patient's documents afterwards.
    Decides EHDS-INT-012: invalid input must be refused with a reason and nothing of it stored."""
    patient = new_patient()
    document = for_patient(data.draw(documents(category), label="document"), patient)
    mutation = data.draw(mutations(document, kinds=kind, validator=fhir_validator), label="mutation")
    invalid_is_rejected(hp=hp, patient=patient, mutation=mutation, category=category, evidence=evidence,
                        prop=f"{SHORT[category]}-invalid-{kind}")
