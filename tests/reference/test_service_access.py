"""Authentication, access control, restriction and emergency access of the reference EHR."""

from __future__ import annotations

import json

import pytest

from conformance.adapter import ActorKind, Denied, NotFound, Rejected, Restriction
from conformance.adapters.reference.accounts import SANDBOX_USERS
from tests.reference.bundles import document, new_patient_identifier

# ---- authentication -------------------------------------------------------------------


def test_health_professional_login_gives_their_organisation(world):
    assert world.hp.kind is ActorKind.HEALTH_PROFESSIONAL
    assert world.hp.organisation is not None and world.hp_other.organisation is not None
    assert world.hp.organisation.identifier != world.hp_other.organisation.identifier


@pytest.mark.parametrize("credentials", [{}, {"password": ""}, {"password": "wrong"}, {"token": "hp-pass"}])
def test_login_refused_without_the_right_password(world, credentials):
    kind, identifier, _, _ = SANDBOX_USERS["hp"]
    with pytest.raises(Denied):
        world.ehr.authenticate(kind, identifier, credentials)


def test_login_refused_for_anonymous_unknown_user_and_wrong_kind(world):
    with pytest.raises(Denied):
        world.ehr.authenticate(ActorKind.ANONYMOUS, "", {})
    with pytest.raises(Denied):
        world.ehr.authenticate(ActorKind.ANONYMOUS, world.hp.identifier, {"password": "hp-pass"})
    with pytest.raises(Denied):
        world.ehr.authenticate(ActorKind.HEALTH_PROFESSIONAL, "urn:nobody|x", {"password": "hp-pass"})
    # the auditor's identifier and password do not make a health professional
    with pytest.raises(Denied):
        world.ehr.authenticate(ActorKind.HEALTH_PROFESSIONAL, world.auditor.identifier, {"password": "auditor-pass"})


def test_patient_login_needs_a_known_patient_and_the_patient_password(world):
    ident = new_patient_identifier()
    with pytest.raises(Denied):
        world.patient(ident)  # unknown to the EHR yet
    receipt = world.ehr.submit(world.hp, document("patient-summary", ident))
    me = world.patient(ident)
    assert me.kind is ActorKind.PATIENT and me.patient_id == receipt.patient_id
    with pytest.raises(Denied):
        world.ehr.authenticate(ActorKind.PATIENT, ident, {"password": "hp-pass"})


def test_failed_logins_are_logged_without_the_password(world):
    kind, identifier, _, _ = SANDBOX_USERS["hp"]
    with pytest.raises(Denied):
        world.ehr.authenticate(kind, identifier, {"password": "not-the-password-xyz"})
    events = world.ehr.store.audit_events(None)
    assert events and events[-1]["outcome"] == "4"
    assert events[-1]["subtype"][0]["code"] == "110122"
    assert "not-the-password-xyz" not in json.dumps(events)


def test_tokens_identify_the_principal_until_they_expire(world):
    token = world.ehr.issue_token(world.hp, ttl=60)
    assert world.ehr.principal_for_token(token) == world.hp
    world.clock.advance(seconds=61)
    with pytest.raises(Denied):
        world.ehr.principal_for_token(token)
    with pytest.raises(Denied):
        world.ehr.principal_for_token("made-up")
    assert token not in world.ehr.store.path.read_bytes().decode("latin-1")


# ---- access control -------------------------------------------------------------------


def test_who_may_do_what(world):
    ident = new_patient_identifier()
    receipt = world.ehr.submit(world.hp, document("patient-summary", ident))
    pid = receipt.patient_id
    me = world.patient(ident)
    other_ident = new_patient_identifier()
    other = world.ehr.submit(world.hp, document("laboratory", other_ident)).patient_id

    # health professionals of either organisation read; they cannot read logs or restrict
    assert world.ehr.list_documents(world.hp_other, pid)
    with pytest.raises(Denied):
        world.ehr.access_log(world.hp, pid)
    with pytest.raises(Denied):
        world.ehr.restrict(world.hp, pid, Restriction(categories=frozenset({"laboratory"})))
    # the patient reads their own record and log, never someone else's, and cannot submit
    assert world.ehr.fetch(me, pid, "patient-summary")["type"] == "document"
    assert world.ehr.access_log(me, pid)
    for call in (lambda: world.ehr.access_log(me, other), lambda: world.ehr.list_documents(me, other),
                 lambda: world.ehr.fetch(me, other, "laboratory"),
                 lambda: world.ehr.submit(me, document("patient-summary", ident))):
        with pytest.raises(Denied):
            call()
    with pytest.raises(Denied):
        world.ehr.find_patient(me, other_ident)
    assert world.ehr.find_patient(me, ident) == pid
    # the auditor reads any log but no health data
    assert world.ehr.access_log(world.auditor, other)
    with pytest.raises(Denied):
        world.ehr.fetch(world.auditor, pid, "patient-summary")
    with pytest.raises(Denied):
        world.ehr.list_documents(world.auditor, pid)


def test_refused_access_is_logged_with_a_failure_outcome(world):
    pid = world.ehr.submit(world.hp, document("patient-summary", new_patient_identifier())).patient_id
    with pytest.raises(Denied):
        world.ehr.access_log(world.hp, pid)
    last = world.ehr.access_log(world.auditor, pid)[-1]
    assert last["outcome"] == "4"
    assert any(a["who"].get("identifier", {}).get("value") == "alice-martin" for a in last["agent"])


def test_unknown_patient_and_category(world):
    with pytest.raises(NotFound):
        world.ehr.find_patient(world.hp, new_patient_identifier())
    with pytest.raises(NotFound):
        world.ehr.list_documents(world.hp, "pat-nope")
    pid = world.ehr.submit(world.hp, document("patient-summary", new_patient_identifier())).patient_id
    with pytest.raises(NotFound):
        world.ehr.fetch(world.hp, pid, "imaging")
    with pytest.raises(Rejected, match="unknown category"):
        world.ehr.fetch(world.hp, pid, "x-rays")


# ---- restriction (Art 8) ----------------------------------------------------------------


def _patient_with(world, *categories):
    ident = new_patient_identifier()
    receipts = [world.ehr.submit(world.hp, document(c, ident)) for c in categories]
    return ident, receipts[0].patient_id, receipts


def test_restricted_document_is_silently_absent_for_health_professionals(world):
    ident, pid, (_ps, lab1, lab2) = _patient_with(world, "patient-summary", "laboratory", "laboratory")
    before = world.ehr.list_documents(world.hp, pid)
    ps_before = world.ehr.fetch(world.hp, pid, "patient-summary")
    me = world.patient(ident)
    world.ehr.restrict(me, pid, Restriction(document_ids=frozenset({lab2.document_id})))

    after = world.ehr.list_documents(world.hp, pid)
    assert after == [d for d in before if d.document_id != lab2.document_id]  # same entries, nothing added
    assert world.ehr.fetch(world.hp, pid, "patient-summary") == ps_before  # other data unchanged, no marker
    # the latest laboratory report is now the earlier one; the restricted one is "not found" like a made-up id
    assert world.ehr.fetch(world.hp, pid, "laboratory") == world.ehr.fetch(
        world.hp, pid, "laboratory", document_id=lab1.document_id)
    with pytest.raises(NotFound) as restricted:
        world.ehr.fetch(world.hp, pid, "laboratory", document_id=lab2.document_id)
    with pytest.raises(NotFound) as made_up:
        world.ehr.fetch(world.hp, pid, "laboratory", document_id="doc-made-up")
    assert restricted.value.reason == made_up.value.reason
    # the other organisation sees the same; the patient sees everything
    assert world.ehr.list_documents(world.hp_other, pid) == after
    assert len(world.ehr.list_documents(me, pid)) == 3


def test_restricted_category_and_replacement(world):
    ident, pid, _ = _patient_with(world, "patient-summary", "laboratory", "imaging")
    me = world.patient(ident)
    world.ehr.restrict(me, pid, Restriction(categories=frozenset({"laboratory", "imaging"})))
    assert {d.category for d in world.ehr.list_documents(world.hp, pid)} == {"patient-summary"}
    assert world.ehr.list_documents(world.hp, pid, "laboratory") == []
    with pytest.raises(NotFound):
        world.ehr.fetch(world.hp, pid, "imaging")
    world.ehr.restrict(me, pid, Restriction(categories=frozenset({"imaging"})))  # replaces the earlier one
    assert {d.category for d in world.ehr.list_documents(world.hp, pid)} == {"patient-summary", "laboratory"}
    assert world.ehr.restriction(me, pid) == Restriction(categories=frozenset({"imaging"}))
    with pytest.raises(Rejected, match="unknown categories"):
        world.ehr.restrict(me, pid, Restriction(categories=frozenset({"radiology"})))


# ---- emergency access (Art 11(5)) ---------------------------------------------------------


@pytest.mark.parametrize("purpose", ["", "   ", "\n\t"])
def test_emergency_without_a_purpose_is_refused_and_logged(world, purpose):
    ident, pid, _ = _patient_with(world, "patient-summary")
    world.ehr.restrict(world.patient(ident), pid, Restriction(categories=frozenset({"patient-summary"})))
    with pytest.raises(Denied, match="purpose"):
        world.ehr.fetch(world.hp, pid, "patient-summary", emergency_purpose=purpose)
    last = world.ehr.access_log(world.auditor, pid)[-1]
    assert last["outcome"] == "4"
    assert last["purposeOfEvent"][0]["coding"][0]["code"] == "BTG"


def test_emergency_with_a_purpose_includes_restricted_data_and_is_flagged(world):
    ident, pid, (ps,) = _patient_with(world, "patient-summary")
    me = world.patient(ident)
    world.ehr.restrict(me, pid, Restriction(document_ids=frozenset({ps.document_id})))
    with pytest.raises(NotFound):
        world.ehr.fetch(world.hp, pid, "patient-summary")
    bundle = world.ehr.fetch(world.hp, pid, "patient-summary", emergency_purpose="unconscious at the ER")
    assert bundle["type"] == "document"
    # the patient sees the emergency access in their own log
    last = world.ehr.access_log(me, pid)[-1]
    assert last["outcome"] == "0"
    assert last["purposeOfEvent"] == [{
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "BTG",
                    "display": "break the glass"}],
        "text": "unconscious at the ER"}]
    # emergency access is for health professionals only
    with pytest.raises(Denied):
        world.ehr.fetch(me, pid, "patient-summary", emergency_purpose="curious")
