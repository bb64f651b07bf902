"""EHDS-GEN-001: the declared scope matches what the system serves.

What the SUT declares in ``describe()`` (the information sheet, Art 30) is taken at its word:
every priority category it says it *consumes* must be accepted as a valid document, and every
category it says it *produces* must come back as a FHIR Bundle whose Composition.type is that
category's LOINC document type (that the Bundle is of type document is EHDS-INT-004's rule). Checks of other requirements that meet a rejection of a
declared category end inconclusive and point here (conformance.checks.submit_declared).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapter import PRIORITY_CATEGORIES, Capability, Denied, NotFound, Rejected
from conformance.auditlog import CATEGORY_LOINC
from conformance.checks import not_applicable

LOINC = "http://loinc.org"


def _composition_types(bundle: dict) -> set[str]:
    """LOINC codes of the document's Composition.type (the first entry of a document Bundle)."""
    codes: set[str] = set()
    for entry in bundle.get("entry") or []:
        resource = (entry or {}).get("resource") or {}
        if resource.get("resourceType") == "Composition":
            codes |= {c.get("code") for c in (resource.get("type") or {}).get("coding") or []
                      if c.get("system") == LOINC and c.get("code")}
    return codes


@pytest.mark.requirement("EHDS-GEN-001")
@pytest.mark.capability(Capability.SUBMIT)
@given(data=st.data())
def test_declared_categories_are_served(sut, sut_description, accounts, new_patient, documents, evidence, data):
    """Procedure: draw one priority category the SUT declares it consumes (not applicable when none), submit a
    valid document of it for a fresh patient, and when the SUT declares export and produces that category fetch
    the document by id. Observed: acceptance, and the result's resourceType and Composition.type LOINC codes.
    Decides EHDS-GEN-001: a declared category must be accepted (a refusal of the adapter's own health professional
    account, Denied, counts as not served) and, when produced, come back as a Bundle of that category's document
    type; declared standards and versions, the advertised capabilities, and refusal of
    undeclared categories are not checked."""
    consumed = sorted(set(sut_description.consumes) & set(PRIORITY_CATEGORIES))
    if not consumed:
        not_applicable("the SUT declares no priority category it accepts")
    exports = sut_description.declares(Capability.EXPORT)
    produced = set(sut_description.produces) if exports else set()
    category = data.draw(st.sampled_from(consumed), label="category")
    hp = sut.login(accounts.hp)
    patient = new_patient()
    try:
        receipt = hp.submit(documents.valid(category, patient))
    except Rejected as answer:
        raise AssertionError(f"the SUT declares that it accepts {category} documents but rejected a valid one: "
                             f"{answer.reason or '(no reason)'}") from None
    except Denied as answer:  # the adapter's own health professional account: the SUT serves the category to nobody
        raise AssertionError(f"the SUT declares that it accepts {category} documents but refused a valid one from "
                             f"its health professional account {accounts.hp.identifier!r} (Denied: "
                             f"{answer.reason or 'no reason given'})") from None
    evidence.note(f"a valid {category} document was accepted as {receipt.document_id}")
    if category not in produced:
        return
    try:
        bundle = hp.fetch(receipt.patient_id, category, document_id=receipt.document_id)
    except NotFound:
        raise AssertionError(f"the SUT declares that it exports {category} documents but the one just accepted "
                             f"({receipt.document_id}) cannot be fetched (NotFound)") from None
    except Denied as answer:
        raise AssertionError(f"the SUT declares that it exports {category} documents but refused the one just "
                             f"accepted ({receipt.document_id}) to the health professional who submitted it (Denied: "
                             f"{answer.reason or 'no reason given'})") from None
    # Bundle.type "document" is EHDS-INT-004's rule (returns_collection_bundle): here, what the export *is about*
    assert isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle", (
        f"the {category} export is not a FHIR Bundle "
        f"({bundle.get('resourceType') if isinstance(bundle, dict) else type(bundle).__name__})")
    types = _composition_types(bundle)
    expected = set(CATEGORY_LOINC[category])
    assert types & expected, (f"the {category} export's Composition.type is {sorted(types) or 'missing'}, "
                              f"not the {category} LOINC document type ({' or '.join(sorted(expected))})")
    evidence.note(f"the {category} document came back as a Bundle whose Composition.type is {sorted(types & expected)}")
