"""Art 8 and Art 11(5): the patient's restrictions are honoured and invisible; emergency access
needs a stated purpose and is logged so the patient can see it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import auditlog
from conformance.adapter import Capability, Denied, NotFound, Rejected, Restriction
from conformance.checks import inconclusive
from ehds_support.flow import AuditorView
from ehds_support.model import purpose_text, document_key, normalise

CATEGORY = "patient-summary"
PURPOSE = "Unconscious patient in the ED"
#: words that would tell a health professional that something was withheld
TELLTALES = ("restrict", "masked", "withheld", "redacted", "hidden", "consent", "opt-out", "opted out")


def _seed_documents(sut, accounts, new_patient, documents, count, keys=None):
    hp = sut.login(accounts.hp)
    patient = new_patient()
    receipts = []
    for i in range(count):
        bundle = documents.valid(CATEGORY, patient, seed=i)
        receipts.append(hp.submit(bundle))
        if keys is not None:
            keys[receipts[-1].document_id] = document_key(bundle)
    return hp, patient, receipts


def _telltales(payload) -> list[str]:
    text = json.dumps(payload, default=str).lower()
    return [w for w in TELLTALES if w in text]


@pytest.mark.requirement("EHDS-SEC-007")
@pytest.mark.capability(Capability.RESTRICTION)
@given(data=st.data(), count=st.integers(min_value=2, max_value=4))
def test_restricted_documents_are_withheld_without_a_trace(sut, accounts, new_patient, documents, evidence,
                                                           data, count):
    """Procedure: 2-4 patient summaries for a fresh patient; the patient restricts some of them; both
    professionals (two organisations) list, fetch each restricted one by id, and fetch the latest.
    Observed: restricted documents are absent from listings, fetching one answers NotFound (never
    Denied), the latest served is not restricted, and no listing or export names or hints at a
    restriction. A fetch that returns a *different* document is not counted as a leak (that is
    EHDS-INT-004's retrieval rule). Decides EHDS-SEC-007 because restricted data must be withheld
    without revealing it."""
    keys: dict[str, str] = {}
    hp, patient, receipts = _seed_documents(sut, accounts, new_patient, documents, count, keys)
    pid = receipts[0].patient_id
    restricted = data.draw(st.sets(st.sampled_from([r.document_id for r in receipts]), min_size=1,
                                   max_size=count - 1), label="restricted documents")
    visible = {r.document_id for r in receipts} - restricted
    sut.login(accounts.patient(patient.identifier)).restrict(pid, Restriction(document_ids=frozenset(restricted)))
    for session in (hp, sut.login(accounts.hp_other)):
        listing = session.list_documents(pid)
        listed = {d.document_id for d in listing}
        assert not (listed & restricted), f"restricted documents {sorted(listed & restricted)} were listed"
        assert visible <= listed, f"unrestricted documents {sorted(visible - listed)} disappeared from the listing"
        words = _telltales([d.__dict__ for d in listing])
        assert not words, f"the listing reveals that data is restricted (mentions {words})"
        for doc_id in sorted(restricted):
            try:
                leaked = session.fetch(pid, CATEGORY, document_id=doc_id)
            except NotFound:
                continue
            except Denied as answer:
                raise AssertionError("fetching a restricted document answered 'denied', which reveals that it "
                                     f"exists and is restricted ({answer.reason!r}); expected 'not found'") from None
            if document_key(leaked) != keys[doc_id]:
                continue  # another document came back: retrieval is EHDS-INT-004's business, not a leak
            evidence.add("document", leaked, label="restricted document served")
            raise AssertionError(f"restricted document {doc_id} was served to a health professional")
        try:
            latest = session.fetch(pid, CATEGORY)
        except NotFound:
            continue  # the visible documents cannot be retrieved: EHDS-INT-004's business
        restricted_keys = {keys[d] for d in restricted}
        assert document_key(latest) not in restricted_keys, (
            "fetching the latest document of the category served a restricted one")
        words = _telltales(latest)
        assert not words, f"the exported document reveals a restriction (mentions {words})"
        served = json.dumps(latest)
        for doc_id in restricted:
            assert doc_id not in served, f"the export mentions the restricted document {doc_id}"
    evidence.note(f"{len(restricted)} of {count} documents restricted; withheld from both organisations, "
                  "no trace in listings or exports")


@pytest.mark.requirement("EHDS-SEC-008")
@pytest.mark.capability(Capability.RESTRICTION)
@pytest.mark.capability(Capability.EMERGENCY_ACCESS)
@given(purpose=st.sampled_from(["", " ", "\t", "\n"]))
def test_emergency_access_needs_a_purpose(sut, accounts, new_patient, documents, evidence, purpose):
    """Procedure: file one patient summary for a fresh patient, have the patient restrict it, then the health
    professional asks for it by id as an emergency access with a hypothesis-drawn blank purpose ('', space, tab
    or newline), and again with the purpose 'Unconscious patient in the ED'. Observed: Denied, Rejected or
    NotFound for the blank purpose; a Bundle for the stated one. Decides EHDS-SEC-008: restricted data may be
    opened in an emergency only with a stated purpose; only blank purposes are refused here, whether a stated
    purpose is a vital interest is not judged."""
    hp, patient, receipts = _seed_documents(sut, accounts, new_patient, documents, 1)
    pid, doc_id = receipts[0].patient_id, receipts[0].document_id
    sut.login(accounts.patient(patient.identifier)).restrict(pid, Restriction(document_ids=frozenset({doc_id})))
    try:
        hp.fetch(pid, CATEGORY, document_id=doc_id, emergency_purpose=purpose)
    except (Denied, Rejected, NotFound) as answer:
        evidence.note(f"emergency access with purpose {purpose!r} refused: {type(answer).__name__}")
    else:
        raise AssertionError(f"emergency access to restricted data was granted with an empty purpose {purpose!r}")
    served = hp.fetch(pid, CATEGORY, document_id=doc_id, emergency_purpose="Unconscious patient in the ED")
    assert served.get("resourceType") == "Bundle", "emergency access with a stated purpose did not return the data"


@pytest.mark.requirement("EHDS-LOG-012")
@pytest.mark.capability(Capability.ACCESS_LOG)
@pytest.mark.capability(Capability.EMERGENCY_ACCESS)
def test_emergency_access_is_logged_for_the_patient(sut, accounts, new_patient, documents, evidence):
    """Procedure: a professional opens a restricted document with the emergency purpose PURPOSE; the
    auditor's log before and after tells the new entries apart; the patient reads their own log.
    Observed: a new entry has purpose of use BTG/ETREAT *and* carries the stated purpose text, and the
    patient sees it. Decides EHDS-LOG-012 because an emergency access must be recorded as such, with its
    purpose, and shown to the person."""
    hp, patient, receipts = _seed_documents(sut, accounts, new_patient, documents, 1)
    pid, doc_id = receipts[0].patient_id, receipts[0].document_id
    auditor = AuditorView(sut, accounts)
    before = auditor.entries(pid)
    try:
        hp.fetch(pid, CATEGORY, document_id=doc_id, emergency_purpose=PURPOSE)
    except (Denied, NotFound) as answer:
        inconclusive(f"emergency access itself was refused ({type(answer).__name__}); see EHDS-SEC-008")
    added = auditlog.new_entries(before, auditor.entries(pid))
    if not added:
        inconclusive("the emergency access left no log entry (see EHDS-LOG-001)")
    for entry in added:
        evidence.add("document", entry, label="log entry of the emergency access")
    flagged = [e for e in added if auditlog.is_emergency(e)]
    assert flagged, ("the emergency access was logged like an ordinary one: no purpose of use BTG/ETREAT "
                     f"(purposes found: {sorted(set().union(*(auditlog.purposes(e) for e in added)))})")
    stated = [e for e in flagged if normalise(PURPOSE) in normalise(purpose_text(e))]
    assert stated, (f"the emergency access is flagged, but its stated purpose {PURPOSE!r} is not in the log "
                    f"(logged: {[purpose_text(e) for e in flagged][:2]})")
    try:
        own = sut.login(accounts.patient(patient.identifier)).access_log(pid)
    except Denied:
        inconclusive("the patient cannot read their log (see EHDS-LOG-009)")
    keys = {auditlog.entry_key(e) for e in own}
    assert any(auditlog.entry_key(e) in keys for e in flagged) or any(auditlog.is_emergency(e) for e in own), (
        "the emergency access is not visible in the patient's own view of the access log")
