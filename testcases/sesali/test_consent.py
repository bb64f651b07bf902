"""FR-003: the patient's consent before a professional reads their summary through Sesali.

The contract's optional CONSENT methods: ``record_consent(patient_id, Consent(purpose, grantee))``,
``withdraw_consent(patient_id, consent_id)`` and ``fetch_for_purpose(patient_id, category, purpose)``,
the access subject to consent. No consent: refused and logged as refused; consent: allowed, and the
log entry refers to the consent; withdrawn: refused again.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import auditlog
from conformance.adapter import Capability, Consent, Denied, NotFound, Rejected
from conformance.checks import inconclusive
from conformance.settings import example_scope, examples
from ehds_support.flow import AuditorView, submit_declared
from ehds_support.fr import CROSS_BORDER_PURPOSE
from ehds_support.fr.consent import is_refusal, record, refers_to, refused

CATEGORY = "patient-summary"


def _seed(sut, accounts, new_patient, documents):
    hp = sut.login(accounts.hp)
    patient = new_patient()
    receipt = submit_declared(hp, documents.valid(CATEGORY, patient), CATEGORY)
    return hp, patient, receipt


def _fetch(session, receipt):
    return lambda: session.fetch_for_purpose(receipt.patient_id, CATEGORY, CROSS_BORDER_PURPOSE,
                                             document_id=receipt.document_id)


@pytest.mark.requirement("FR-003")
@pytest.mark.capability(Capability.CONSENT, Capability.SUBMIT)
@pytest.mark.category(CATEGORY)
@settings(max_examples=examples(4))
@given(recorder=st.sampled_from(["hp", "patient"]), named_grantee=st.booleans())
def test_access_needs_a_consent_in_force(sut, sut_description, accounts, new_patient, documents, evidence, recorder,
                                         named_grantee):
    """Procedure: a professional files a patient summary, then asks for it for the cross-border-care
    purpose (fetch_for_purpose) with no consent; the consent is recorded (by the professional before whom
    the patient consented, or by the patient when patients can sign in), naming that professional or any professional; the access
    is asked again (and, for a consent naming one professional, by a second professional); the consent
    is withdrawn and the access asked once more.
    Observed: which of the accesses were served and which were Denied.
    Decides FR-003 because the access must be refused without consent, allowed with a consent in force
    covering the professional, and refused again once the consent is withdrawn."""
    if recorder == "patient" and not sut_description.declares(Capability.PATIENT_ACCESS):
        recorder = "hp"  # patients cannot sign in to this SUT: the professional records what the patient said
    hp, patient, receipt = _seed(sut, accounts, new_patient, documents)
    pid = receipt.patient_id
    with example_scope(evidence, "fr-003-consent-cycle").example(recorder=recorder, named_grantee=named_grantee):
        why = refused(_fetch(hp, receipt))
        assert why is not None, "the summary was served for cross-border care although the patient never consented"
        evidence.note(f"no consent: refused ({why})")
        session = hp if recorder == "hp" else sut.login(accounts.patient(patient.identifier))
        grantee = accounts.hp.identifier if named_grantee else ""
        rec = record(session, pid, Consent(CROSS_BORDER_PURPOSE, grantee))
        evidence.note(f"consent {rec.consent_id} recorded by {rec.recorded_by} at {rec.recorded} "
                      f"(grantee {grantee or 'any professional'})")
        why = refused(_fetch(hp, receipt))
        assert why is None, f"with the patient's consent recorded ({rec.consent_id}) the access was refused: {why}"
        if named_grantee:
            why = refused(_fetch(sut.login(accounts.hp_other), receipt))
            assert why is not None, ("a consent given to one professional let another professional "
                                     f"({accounts.hp_other.identifier}) read the summary")
        session.withdraw_consent(pid, rec.consent_id)
        why = refused(_fetch(hp, receipt))
        assert why is not None, f"the summary was still served after the consent {rec.consent_id} was withdrawn"
        evidence.note(f"withdrawn: refused again ({why})")


@pytest.mark.requirement("FR-003")
@pytest.mark.capability(Capability.CONSENT, Capability.SUBMIT, Capability.ACCESS_LOG)
@pytest.mark.category(CATEGORY)
def test_consent_decisions_are_logged(sut, accounts, new_patient, documents, evidence):
    """Procedure: a professional asks for a patient's summary for cross-border care without consent
    (refused), then the consent is recorded and the access asked again (served); the auditor reads the
    access log before and after each attempt.
    Observed: the entries each attempt added (outcome, professional, references).
    Decides FR-003 because the refused access must leave a refused entry naming the professional, and the
    allowed access an entry that refers to the consent it relied on (Consent/<id>)."""
    hp, patient, receipt = _seed(sut, accounts, new_patient, documents)
    pid = receipt.patient_id
    log = AuditorView(sut, accounts)
    hp_id = auditlog.identifier_value(accounts.hp.identifier)
    before = log.entries(pid)
    assert refused(_fetch(hp, receipt)) is not None, \
        "the summary was served for cross-border care although the patient never consented"
    after = log.entries(pid)
    added = auditlog.new_entries(before, after)
    evidence.add("audit-events", added, label="entries after the refused access")
    refusals = [e for e in added if is_refusal(e) and hp_id in auditlog.person_ids(e)]
    assert refusals, (f"the access refused for want of consent left no refused entry naming the professional "
                      f"{hp_id} ({len(added)} new entries, outcomes {[e.get('outcome') for e in added]})")
    rec = record(hp, pid, Consent(CROSS_BORDER_PURPOSE, accounts.hp.identifier))
    assert refused(_fetch(hp, receipt)) is None, "with the patient's consent recorded the access was refused"
    added = auditlog.new_entries(after, log.entries(pid))
    evidence.add("audit-events", added, label="entries after the consented access")
    served = [e for e in added if not is_refusal(e) and hp_id in auditlog.person_ids(e)]
    assert served, f"the access allowed under consent {rec.consent_id} was not logged as a success"
    assert any(refers_to(e, rec.consent_id) for e in served), (
        f"the log entry of the consented access does not refer to the consent (Consent/{rec.consent_id})")
    evidence.note(f"refused entry and consented entry referring to Consent/{rec.consent_id} found")


def _refused(call: Any) -> str | None:
    """`refused`, counting NotFound and Rejected as refusals too (a SUT may hide what the actor may not see)."""
    try:
        call()
    except (Denied, NotFound, Rejected) as answer:
        return f"{type(answer).__name__}: {answer.reason or ''}".rstrip(": ")
    return None


@pytest.mark.requirement("FR-003")
@pytest.mark.capability(Capability.CONSENT, Capability.SUBMIT)
@pytest.mark.category(CATEGORY)
def test_a_consent_is_the_patients_own(sut, sut_description, accounts, new_patient, documents, evidence):
    """Procedure: a professional files the summaries of two patients, A and B, and records A's consent to
    cross-border care by that professional. The professional then withdraws that consent giving B's patient id.
    When patients can sign in, B signs in and tries to record a consent of A for a second professional, to
    withdraw A's consent, and to read A's summary through the consent-bound access (fetch_for_purpose). After
    each attempt the professionals ask for A's summary for cross-border care.
    Observed: which attempts were refused (Denied, NotFound or Rejected) and which later accesses were served.
    Decides FR-003 because a consent is the patient's own: a withdrawal takes effect only for the patient it
    names, another patient can neither record nor withdraw it, and nobody reads a summary under someone
    else's consent."""
    hp, _patient_a, ra = _seed(sut, accounts, new_patient, documents)
    _hp, patient_b, rb = _seed(sut, accounts, new_patient, documents)
    rec = record(hp, ra.patient_id, Consent(CROSS_BORDER_PURPOSE, accounts.hp.identifier))
    if refused(_fetch(hp, ra)) is not None:
        inconclusive("with A's consent recorded the access was refused (test_access_needs_a_consent_in_force "
                     "decides that)")
    answer = _refused(lambda: hp.withdraw_consent(rb.patient_id, rec.consent_id))
    evidence.note(f"withdrawal of A's consent {rec.consent_id} under B's id {rb.patient_id}: {answer or 'accepted'}")
    why = refused(_fetch(hp, ra))
    assert why is None, (f"withdrawing consent {rec.consent_id} under patient B ({rb.patient_id}) withdrew patient "
                         f"A's consent: A's summary is now refused ({why})")
    if not sut_description.declares(Capability.PATIENT_ACCESS):
        evidence.note("patients cannot sign in to this SUT: the attempts by patient B were not made")
        return
    b = sut.login(accounts.patient(patient_b.identifier))
    other = sut.login(accounts.hp_other)
    answer = _refused(lambda: b.record_consent(ra.patient_id, Consent(CROSS_BORDER_PURPOSE,
                                                                      accounts.hp_other.identifier)))
    evidence.note(f"patient B records a consent of A for {accounts.hp_other.identifier}: {answer or 'accepted'}")
    assert answer is not None, "patient B's session recorded a consent in patient A's name"
    assert refused(_fetch(other, ra)) is not None, (
        f"after patient B recorded a consent in A's name, {accounts.hp_other.identifier} read A's summary")
    answer = _refused(lambda: b.withdraw_consent(ra.patient_id, rec.consent_id))
    evidence.note(f"patient B withdraws A's consent {rec.consent_id}: {answer or 'accepted'}")
    why = refused(_fetch(hp, ra))
    assert why is None, f"patient B withdrew patient A's consent {rec.consent_id}: A's summary is now refused ({why})"
    answer = _refused(lambda: b.fetch_for_purpose(ra.patient_id, CATEGORY, CROSS_BORDER_PURPOSE,
                                                  document_id=ra.document_id))
    evidence.note(f"patient B asks A's summary for cross-border care: {answer or 'served'}")
    assert answer is not None, "patient B read patient A's summary through the consent-bound access"
