"""FR-004: a received patient summary is shown to the French professional in French.

The harness ships a test translation catalogue (ehds_support/fr/catalogue, TEST DATA); the SUT loads it
(as an NCP loads the eHDSI catalogue) and ``displayed_summary(patient_id, document_id=..., language="fr-FR")``
returns what the professional is shown: each coded item with the catalogue's French display, the
original text still available, an untranslatable code shown as such.
"""

from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.adapter import Capability
from conformance.settings import example_scope, examples
from ehds_support.flow import submit_declared
from ehds_support.fr import catalogue

CATEGORY = "patient-summary"


@pytest.mark.requirement("FR-004")
@pytest.mark.capability(Capability.TRANSLATED_DISPLAY, Capability.SUBMIT)
@pytest.mark.category(CATEGORY)
@settings(max_examples=examples(4))
@given(seed=st.integers(min_value=0, max_value=10_000), local=st.integers(min_value=1, max_value=999))
def test_summary_is_shown_in_french_with_the_original(sut, accounts, new_patient, documents, evidence,
                                                       french_catalogue, seed, local):
    """Procedure: the test translation catalogue is loaded; a professional files a generated patient summary
    (with one sender-local code added that no catalogue translates) and asks what they are shown in fr-FR.
    Observed: each displayed item (code, text shown, its language, original text).
    Decides FR-004 because every coding of the summary's clinical content must be shown: with the
    catalogue's French display when it has one, as received (its display or code) when it has none, and
    with its original-language text still available."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    code, display = f"LOC-{local:03d}", f"Sender-local finding {local}"
    with example_scope(evidence, "fr-004-display").example(seed=seed, local_code=code):
        bundle = catalogue.with_local_coding(documents.valid(CATEGORY, patient, seed=seed), code, display)
        receipt = submit_declared(hp, bundle, CATEGORY)
        shown = hp.displayed_summary(receipt.patient_id, document_id=receipt.document_id, language="fr-FR")
        evidence.add("displayed-summary", [i.__dict__ for i in shown.items])
        evidence.note(f"catalogue {french_catalogue}")
        expected = sorted(set(catalogue.coded_items(bundle)))
        for system, c, original in expected:
            items = [i for i in shown.items if i.system == system and i.code == c]
            assert items, f"the coded item {system}|{c} ({original!r}) is not shown at all: dropped"
            french = catalogue.french(system, c)
            if french:
                assert any(i.shown == french for i in items), (
                    f"{system}|{c} is shown as {[i.shown for i in items]}, not with the catalogue's French display "
                    f"{french!r}")
                assert any(i.shown == french and i.language.lower().startswith("fr") for i in items), (
                    f"{system}|{c} is shown in French but labelled {[i.language for i in items]}")
            else:
                assert any(i.shown and (c in i.shown or (original and original in i.shown)) for i in items), (
                    f"the untranslatable {system}|{c} is not shown as such (shown {[i.shown for i in items]!r})")
            if original:
                assert any(i.original == original for i in items), (
                    f"the original text {original!r} of {system}|{c} is no longer available "
                    f"(original {[i.original for i in items]!r})")
        translated = sum(1 for s, c, _ in expected if catalogue.french(s, c))
        evidence.note(f"{len(expected)} coded items: {translated} shown with the catalogue's French display, "
                      f"{len(expected) - translated} shown as received; originals kept")
