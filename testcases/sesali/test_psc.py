"""FR-002: French health professionals sign in with Pro Sante Connect (PSC), and the log names their RPPS.

The harness serves a mock PSC provider on loopback (ehds_support/fr/psc.py: discovery, JWKS, userinfo
with PSC claim shapes) that the SUT trusts. A professional is an Actor whose credentials carry a PSC ID
token and access token (``oidc_id_token``, ``oidc_access_token``; capability OIDC_LOGIN). Tokens are
secrets: the evidence names their defect, never their content.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import auditlog
from conformance.adapter import Actor, ActorKind, Capability, Denied
from conformance.settings import example_scope, examples
from ehds_support.flow import AuditorView, submit_declared
from ehds_support.fr import psc as mock_psc

CATEGORY = "patient-summary"


def _actor(mock, professional, defect=None) -> Actor:
    return Actor(ActorKind.HEALTH_PROFESSIONAL, name=f"{professional.given} {professional.family}",
                 credentials=mock.issue(professional, defect=defect))


def _login(sut, actor):
    """The session, or the refusal reason."""
    try:
        return sut.login(actor), None
    except Denied as answer:
        return None, answer.reason or "denied"


@pytest.mark.requirement("FR-002")
@pytest.mark.capability(Capability.OIDC_LOGIN)
@settings(max_examples=examples(len(mock_psc.DEFECTS) * 2))
@given(defect=st.sampled_from(mock_psc.DEFECTS),
       professional=st.sampled_from([mock_psc.PRACTISING, mock_psc.PRACTISING_ECPS]))
def test_only_valid_tokens_of_the_trusted_psc_are_accepted(sut, psc, evidence, defect, professional):
    """Procedure: a practising professional (CPS card or e-CPS) signs in with a valid ID token of the
    trusted mock PSC, then with a token that has one defect: another issuer, another audience, expired,
    unsigned (alg none), or signed by a key the issuer does not publish.
    Observed: whether each login gave a session or was Denied.
    Decides FR-002 because the professional must be authenticated by PSC: the valid token is accepted,
    and a token that PSC did not issue for this system, or that is no longer valid, is refused."""
    with example_scope(evidence, "fr-002-psc-tokens").example(defect=defect, means=professional.means):
        session, why = _login(sut, _actor(psc, professional))
        assert session is not None, (f"a valid PSC ID token ({professional.means}) of the configured issuer "
                                     f"{psc.issuer} was refused: {why}")
        session, why = _login(sut, _actor(psc, professional, defect))
        assert session is None, f"a PSC ID token with a defect ({defect}) was accepted"
        evidence.note(f"valid {professional.means} token accepted; {defect} token refused ({why})")


@pytest.mark.requirement("FR-002")
@pytest.mark.capability(Capability.OIDC_LOGIN)
def test_person_without_a_french_practice_is_refused(sut, psc, evidence):
    """Procedure: a person authenticated by the mock PSC (valid, signed ID token; userinfo with an RPPS
    number but no exercice nor activity: no practice authorisation in France) signs in.
    Observed: whether the login gave a session.
    Decides FR-002 because only professionals practising and authorised in France may access: a valid
    PSC authentication alone is not enough."""
    session, why = _login(sut, _actor(psc, mock_psc.NO_FRENCH_PRACTICE))
    assert session is None, "a person with no practice authorisation in France was let in with a valid PSC token"
    evidence.note(f"refused: {why}")


@pytest.mark.requirement("FR-002")
@pytest.mark.capability(Capability.OIDC_LOGIN, Capability.SUBMIT, Capability.ACCESS_LOG)
@pytest.mark.category(CATEGORY)
def test_access_log_records_the_rpps_from_psc(sut, psc, accounts, new_patient, documents, evidence):
    """Procedure: a professional signed in through the mock PSC files and reads a patient summary; the
    auditor reads the patient's access log.
    Observed: the person (requestor agent) of the entries added by that professional's accesses.
    Decides FR-002 because the log must record the professional by the RPPS that PSC asserted (the national
    identifier '8' + RPPS, or the RPPS itself), not by a local account or the token's opaque subject."""
    professional = mock_psc.PRACTISING
    session, why = _login(sut, _actor(psc, professional))
    assert session is not None, f"a valid PSC ID token of the configured issuer was refused: {why}"
    patient = new_patient()
    receipt = submit_declared(session, documents.valid(CATEGORY, patient), CATEGORY)
    session.fetch(receipt.patient_id, CATEGORY, document_id=receipt.document_id)
    entries = AuditorView(sut, accounts).entries(receipt.patient_id)
    evidence.add("audit-events", entries, label="access log of the patient")
    persons = set().union(*(auditlog.person_ids(e) for e in entries)) if entries else set()
    assert entries, "the accesses of the PSC-authenticated professional left no log entry"
    wanted = {professional.national_id, professional.rpps}
    assert persons & wanted, (f"the log does not name the professional by their RPPS ({professional.rpps}, national "
                              f"id {professional.national_id}); persons recorded: {sorted(persons)}")
    evidence.note(f"the log records the professional as {sorted(persons & wanted)}")
