"""FR-005: a foreign patient is found by the identity traits of their country, and by nothing less.

There is no shared European electronic identification: each country names the traits that identify
its patients (ehds_support/fr/identity_traits.yaml, TEST DATA). ``find_patient_by_traits(country,
traits)`` must find the patient with the declared traits and nobody with missing, mismatching or
partial traits.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.adapter import Capability, NotFound, Rejected
from conformance.checks import inconclusive
from conformance.settings import example_scope, examples
from ehds_support.flow import submit_declared
from ehds_support.fr import traits

CATEGORY = "patient-summary"


def _not_found(hp, country: str, given_traits: dict[str, str]) -> str | None:
    """None when the lookup found nobody (NotFound / Rejected), else the patient id it returned."""
    try:
        return hp.find_patient_by_traits(country, given_traits)
    except (NotFound, Rejected):
        return None


def _variants(full: dict[str, str], table: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """Trait sets that must NOT identify the patient: each trait missing, each trait wrong, and each
    identifier cut short from either end."""
    out: list[tuple[str, dict[str, str]]] = []
    for trait, system in table.items():
        out.append((f"{trait} missing", {k: v for k, v in full.items() if k != trait}))
        if trait == "birth_date":
            wrong = (dt.date.fromisoformat(full[trait]) + dt.timedelta(days=1)).isoformat()
        elif system:
            wrong = full[trait][:-1] + str((int(full[trait][-1]) + 1) % 10)
        else:
            wrong = full[trait] + "x"
        out.append((f"{trait} mismatching", {**full, trait: wrong}))
        if system:
            out.append((f"{trait} prefix only", {**full, trait: full[trait][:-2]}))
            out.append((f"{trait} suffix only", {**full, trait: full[trait][2:]}))
    return out


@pytest.mark.requirement("FR-005")
@pytest.mark.capability(Capability.TRAIT_LOOKUP, Capability.SUBMIT)
@pytest.mark.category(CATEGORY)
@settings(max_examples=examples(4))
@given(country=st.sampled_from(traits.countries()))
def test_declared_traits_find_the_patient_and_nothing_less(sut, accounts, new_patient, documents, evidence,
                                                           identity_traits, country):
    """Procedure: the per-country trait table is loaded; a patient summary of a patient from `country`
    (carrying the country's identifiers) is filed; the patient is looked up with the country's traits,
    then with each trait missing, each trait wrong, and each identifier cut short (prefix, suffix).
    Observed: the patient id each lookup returned, or NotFound.
    Decides FR-005 because the declared traits must identify exactly the filed patient, and missing,
    mismatching or partial traits must identify nobody (a wrong match shows another person's data)."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    table = traits.table()[country]
    full = traits.traits_of(patient, country)
    with example_scope(evidence, "fr-005-traits").example(country=country, traits=sorted(full)):
        receipt = submit_declared(hp, traits.with_identifiers(documents.valid(CATEGORY, patient), patient, country),
                                  CATEGORY)
        for trait, system in table.items():  # the identifiers must have been kept at all (else FR-001's fault)
            if system:
                try:
                    hp.find_patient(f"{system}|{full[trait]}")
                except NotFound:
                    inconclusive(f"the SUT does not find the patient by the {country} {trait} it received in the "
                                 "summary (secondary identifiers lost: see FR-001, EHDS-INT-002); the trait "
                                 "lookup cannot be examined")
        found = _not_found(hp, country, full)
        assert found == receipt.patient_id, (
            f"the {country} traits {sorted(full)} of the patient filed as {receipt.patient_id} found {found!r}")
        for label, partial in _variants(full, table):
            wrong = _not_found(hp, country, partial)
            assert wrong is None, f"a lookup with the {country} traits but {label} found patient {wrong!r}"
        evidence.note(f"{country}: found by {sorted(full)}; {len(_variants(full, table))} incomplete, "
                      "mismatching or partial trait sets found nobody")
