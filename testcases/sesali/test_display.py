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

from conformance import auditlog
from conformance.adapter import Capability, Denied, NotFound
from conformance.checks import not_applicable
from conformance.settings import example_scope, examples
from ehds_support.flow import AuditorView, submit_declared
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


def _offers_display(sut_description) -> None:
    """These checks are about a read path the SUT may not have: outside the French profile (where FR-004 makes
    the display mandatory) a SUT without it has no such path to check."""
    if not sut_description.declares(Capability.TRANSLATED_DISPLAY):
        not_applicable("the SUT offers no translated display (capability translated-display), so this read path "
                       "does not exist")


@pytest.mark.requirement("EHDS-LOG-001")
@pytest.mark.capability(Capability.SUBMIT, Capability.ACCESS_LOG)
@pytest.mark.category(CATEGORY)
def test_showing_the_translated_summary_is_logged(sut, sut_description, accounts, new_patient, documents, evidence,
                                                  request):
    """Procedure: a professional files a patient summary for a fresh patient; the auditor reads the patient's
    access log; the professional is shown the summary in fr-FR (displayed_summary); the auditor reads the log
    again. Observed: the entries the display added.
    Decides EHDS-LOG-001 because showing a patient summary on screen is an access to priority-category data
    like any read, so it must add its own entry (what the entry names is EHDS-LOG-002..007's business; the fetch
    path is checked by test_every_access_is_logged, this is the other read path a Sesali-capable EHR offers).
    Not applicable to a SUT without the translated display."""
    _offers_display(sut_description)
    request.getfixturevalue("french_catalogue")
    hp = sut.login(accounts.hp)
    patient = new_patient()
    receipt = submit_declared(hp, documents.valid(CATEGORY, patient), CATEGORY)
    log = AuditorView(sut, accounts)
    before = log.entries(receipt.patient_id)
    hp.displayed_summary(receipt.patient_id, document_id=receipt.document_id, language="fr-FR")
    added = auditlog.new_entries(before, log.entries(receipt.patient_id))
    evidence.add("audit-events", added, label="entries after the summary was shown")
    assert added, (f"showing {receipt.patient_id}'s summary in French to the professional added no entry to the "
                   "access log")


@pytest.mark.requirement("EHDS-SEC-004")
@pytest.mark.capability(Capability.SUBMIT, Capability.PATIENT_ACCESS)
@pytest.mark.category(CATEGORY)
def test_translated_summary_is_not_shown_to_another_patient(sut, sut_description, accounts, new_patient, documents,
                                                           evidence, request):
    """Procedure: a professional files the patient summaries of two fresh patients, A and B; B signs in and
    asks to be shown A's summary in fr-FR (displayed_summary). Observed: the answer (served, or Denied /
    NotFound). Decides EHDS-SEC-004 because a patient's access is limited to their own record on every read
    path: the translated display must refuse another patient's summary as the ordinary read does. Not applicable
    to a SUT without the translated display."""
    _offers_display(sut_description)
    request.getfixturevalue("french_catalogue")
    hp = sut.login(accounts.hp)
    patient_a, patient_b = new_patient(), new_patient()
    ra = submit_declared(hp, documents.valid(CATEGORY, patient_a), CATEGORY)
    submit_declared(hp, documents.valid(CATEGORY, patient_b), CATEGORY)
    b = sut.login(accounts.patient(patient_b.identifier))
    try:
        shown = b.displayed_summary(ra.patient_id, document_id=ra.document_id, language="fr-FR")
    except (Denied, NotFound) as answer:
        evidence.note(f"patient B asking for A's translated summary: {type(answer).__name__} ({answer.reason})")
        return
    raise AssertionError(f"patient B was shown patient A's summary ({len(shown.items)} items) through the "
                         "translated display")
