"""Annex II 3.2 and Art 9: every access to priority-category data is logged with its content.

One scenario produces the log entries the content checks examine: a health
professional lists a patient's documents, then fetches the patient summary. The
entries each access added are told apart by reading the log before and after.
When an access left no entry at all, the content checks are inconclusive
(EHDS-LOG-001 is the requirement that fails then).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import auditlog
from conformance.adapter import Capability, Denied
from conformance.auditlog import identifier_value
from conformance.checks import inconclusive
from ehds_support.flow import AuditorView

CLOCK_TOLERANCE = dt.timedelta(minutes=5)
CATEGORY = "patient-summary"


@dataclass
class Scenario:
    patient_id: str
    patient_identifier: str
    bundle: dict[str, Any]
    hp_identifier: str
    org_identifier: str
    started: dt.datetime
    finished: dt.datetime
    list_entries: list[dict[str, Any]] = field(default_factory=list)
    fetch_entries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def entries(self) -> list[dict[str, Any]]:
        return self.list_entries + self.fetch_entries


def run_scenario(sut, accounts, new_patient, documents, evidence) -> Scenario:
    hp = sut.login(accounts.hp)
    auditor = AuditorView(sut, accounts)
    patient = new_patient()
    bundle = documents.valid(CATEGORY, patient)
    receipt = hp.submit(bundle)
    started = dt.datetime.now(dt.timezone.utc)
    log0 = auditor.entries(receipt.patient_id)
    hp.list_documents(receipt.patient_id)
    log1 = auditor.entries(receipt.patient_id)
    hp.fetch(receipt.patient_id, CATEGORY)
    log2 = auditor.entries(receipt.patient_id)
    finished = dt.datetime.now(dt.timezone.utc)
    scenario = Scenario(
        patient_id=receipt.patient_id,
        patient_identifier=patient.identifier,
        bundle=bundle,
        hp_identifier=accounts.hp.identifier,
        org_identifier=accounts.hp.organisation.identifier if accounts.hp.organisation else "",
        started=started,
        finished=finished,
        list_entries=auditlog.new_entries(log0, log1),
        fetch_entries=auditlog.new_entries(log1, log2),
    )
    evidence.note(f"list added {len(scenario.list_entries)} entries, fetch added {len(scenario.fetch_entries)}")
    for entry in scenario.entries[:4]:
        evidence.add("document", entry, label="access-log entry")
    if not scenario.entries:
        inconclusive("the accesses left no log entry to examine (see EHDS-LOG-001)")
    return scenario


ACCESSES = st.lists(st.sampled_from(["list-hp", "fetch-hp", "list-other", "fetch-other"]), min_size=1, max_size=4)


@pytest.mark.requirement("EHDS-LOG-001")
@pytest.mark.capability(Capability.ACCESS_LOG)
@given(accesses=ACCESSES)
def test_every_access_is_logged(sut, accounts, new_patient, documents, evidence, accesses):
    """Procedure: file a patient summary for a fresh patient as the health professional, then run a
    hypothesis-drawn sequence of 1-4 accesses (list the patient's documents or fetch the patient summary, each by
    that professional or by the second professional account), reading the patient's access log as the auditor
    before and after each access. Observed: the entries each single access added. Decides EHDS-LOG-001: every
    access to priority-category data must leave a record, so an access that adds no entry fails it (each access
    must add its own entry; an access recorded only in a group with a later one is not recognised)."""
    hp, other = sut.login(accounts.hp), sut.login(accounts.hp_other)
    auditor = AuditorView(sut, accounts)
    receipt = hp.submit(documents.valid(CATEGORY, new_patient()))
    for access in accesses:
        session = hp if access.endswith("-hp") else other
        before = auditor.entries(receipt.patient_id)
        if access.startswith("list"):
            session.list_documents(receipt.patient_id)
        else:
            session.fetch(receipt.patient_id, CATEGORY)
        added = auditlog.new_entries(before, auditor.entries(receipt.patient_id))
        assert added, f"access '{access}' (of the sequence {accesses}) added no entry to the access log"
    evidence.note(f"{len(accesses)} accesses, each logged: {accesses}")


@pytest.mark.requirement("EHDS-LOG-002")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_log_names_the_accessing_organisation(sut, accounts, new_patient, documents, evidence):
    """Procedure: the module's scenario: file a patient summary for a fresh patient as the health professional,
    list the patient's documents, then fetch the patient summary, reading the patient's access log as the auditor
    before and after each access to tell apart the entries each access added (inconclusive when they added none,
    or when the auditor is refused). Observed: the organisation identifiers in each new entry's agents (an agent
    typed PROV, ORG or 110150, or whose who is an Organization). Decides EHDS-LOG-002: every entry must carry the
    identifier value of the professional's organisation, the provider on whose behalf the data was accessed."""
    s = run_scenario(sut, accounts, new_patient, documents, evidence)
    want = identifier_value(s.org_identifier)
    for entry in s.entries:
        found = auditlog.organisation_ids(entry)
        assert want in found, (f"log entry {entry.get('id', '?')} does not name the health professional's "
                               f"organisation {want!r} (organisations found: {sorted(found) or 'none'})")


@pytest.mark.requirement("EHDS-LOG-003")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_log_names_the_accessing_person(sut, accounts, new_patient, documents, evidence):
    """Procedure: the module's scenario: file a patient summary for a fresh patient as the health professional,
    list the patient's documents, then fetch the patient summary, reading the patient's access log as the auditor
    before and after each access to tell apart the entries each access added (inconclusive when they added none,
    or when the auditor is refused). Observed: the identifiers of each new entry's requestor agents (requestor
    true, who not an Organization or Device). Decides EHDS-LOG-003: every entry must name the professional's
    identifier value as requestor, i.e. the natural person and not only the client software."""
    s = run_scenario(sut, accounts, new_patient, documents, evidence)
    want = identifier_value(s.hp_identifier)
    for entry in s.entries:
        found = auditlog.person_ids(entry)
        assert want in found, (f"log entry {entry.get('id', '?')} does not identify the person {want!r} as "
                               f"requestor (persons found: {sorted(found) or 'none'})")


@pytest.mark.requirement("EHDS-LOG-004")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_log_names_the_categories_accessed(sut, accounts, new_patient, documents, evidence):
    """Procedure: the module's scenario: file a patient summary for a fresh patient as the health professional,
    list the patient's documents, then fetch the patient summary, reading the patient's access log as the auditor
    before and after each access to tell apart the entries each access added (inconclusive when they added none,
    or when the auditor is refused). Observed: only the entries the fetch added (inconclusive when it added
    none); the listing's entries are not examined. The categories an entry states are read from entity.detail or
    from LOINC codes in entity type, role or securityLabel. Decides EHDS-LOG-004: each entry of a patient-summary
    fetch must state the patient-summary category."""
    s = run_scenario(sut, accounts, new_patient, documents, evidence)
    if not s.fetch_entries:
        inconclusive("the fetch left no log entry to examine (see EHDS-LOG-001)")
    for entry in s.fetch_entries:
        found = auditlog.categories(entry)
        assert CATEGORY in found, (f"log entry {entry.get('id', '?')} of a {CATEGORY} fetch does not state the "
                                   f"category (categories found: {sorted(found) or 'none'})")


@pytest.mark.requirement("EHDS-LOG-005")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_log_records_date_and_time(sut, accounts, new_patient, documents, evidence):
    """Procedure: the module's scenario: file a patient summary for a fresh patient as the health professional,
    list the patient's documents, then fetch the patient summary, reading the patient's access log as the auditor
    before and after each access to tell apart the entries each access added (inconclusive when they added none,
    or when the auditor is refused). Observed: each new entry's recorded element. Decides EHDS-LOG-005: it must
    be an instant with a time-zone offset lying within the scenario's start and end (5 minutes tolerance either
    side), i.e. the date and time of the access with its time zone."""
    s = run_scenario(sut, accounts, new_patient, documents, evidence)
    for entry in s.entries:
        when = auditlog.recorded(entry)
        assert when is not None, (f"log entry {entry.get('id', '?')} has no access time with a time zone "
                                  f"(recorded = {entry.get('recorded')!r})")
        assert s.started - CLOCK_TOLERANCE <= when <= s.finished + CLOCK_TOLERANCE, (
            f"log entry time {entry.get('recorded')} is outside the access window "
            f"{s.started.isoformat()} .. {s.finished.isoformat()} (tolerance {CLOCK_TOLERANCE})")


@pytest.mark.requirement("EHDS-LOG-006")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_log_names_the_origin_of_the_data(sut, accounts, new_patient, documents, evidence):
    """Procedure: the module's scenario: file a patient summary for a fresh patient as the health professional,
    list the patient's documents, then fetch the patient summary, reading the patient's access log as the auditor
    before and after each access to tell apart the entries each access added (inconclusive when they added none,
    or when the auditor is refused). Observed: only the entries the fetch added (inconclusive when it added
    none): the identifiers of their non-patient entities, compared with the identifiers of the submitted
    document's Composition.custodian. Decides EHDS-LOG-006: each fetch entry must name at least one custodian
    identifier, the origin of the data served; the listing's entries are not examined."""
    s = run_scenario(sut, accounts, new_patient, documents, evidence)
    if not s.fetch_entries:
        inconclusive("the fetch left no log entry to examine (see EHDS-LOG-001)")
    origins = auditlog.bundle_custodians(s.bundle)
    assert origins, "harness error: the submitted document names no custodian"
    for entry in s.fetch_entries:
        found = auditlog.origin_ids(entry)
        assert origins & found, (f"log entry {entry.get('id', '?')} does not name the origin of the data served "
                                 f"(expected one of {sorted(origins)}, found {sorted(found) or 'none'})")


@pytest.mark.requirement("EHDS-LOG-007")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_log_identifies_the_patient(sut, accounts, new_patient, documents, evidence):
    """Procedure: the module's scenario: file a patient summary for a fresh patient as the health professional,
    list the patient's documents, then fetch the patient summary, reading the patient's access log as the auditor
    before and after each access to tell apart the entries each access added (inconclusive when they added none,
    or when the auditor is refused). Observed: the patient entities of each new entry (what.reference or
    what.identifier). Decides EHDS-LOG-007: every entry must name the patient's identifier value or Patient/{id},
    the natural person whose data was accessed (the per-patient query itself is the auditor's
    access_log(patient_id))."""
    s = run_scenario(sut, accounts, new_patient, documents, evidence)
    want = {identifier_value(s.patient_identifier), f"Patient/{s.patient_id}"}
    for entry in s.entries:
        found = auditlog.patient_refs(entry)
        assert want & found, (f"log entry {entry.get('id', '?')} does not identify the patient whose data was "
                              f"accessed (expected one of {sorted(want)}, found {sorted(found) or 'none'})")


@pytest.mark.requirement("EHDS-LOG-009")
@pytest.mark.capability(Capability.ACCESS_LOG)
@pytest.mark.capability(Capability.PATIENT_ACCESS)
def test_patient_can_read_who_accessed_their_data(sut, accounts, new_patient, documents, evidence):
    """Procedure: the health professional files and fetches a patient summary for a fresh patient; the patient
    then logs in and reads their own access log. Observed: whether the patient is refused, and among the entries
    whose requestor is the professional (inconclusive when there are none) the agents' who.display or name and
    the entry's categories or entity what.display. Decides EHDS-LOG-009: the patient must be able to read the
    log, and each such entry must give some agent a readable name and say readably which data was accessed;
    whether the name is the professional's or the provider's and when the access took place are not checked."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    receipt = hp.submit(documents.valid(CATEGORY, patient))
    hp.fetch(receipt.patient_id, CATEGORY)
    try:
        own = sut.login(accounts.patient(patient.identifier, name=patient.family)).access_log(receipt.patient_id)
    except Denied as answer:
        raise AssertionError(f"the patient was refused access to their own access log: {answer.reason}") from None
    evidence.note(f"the patient read {len(own)} entries of their access log")
    about_hp = [e for e in own if identifier_value(accounts.hp.identifier) in auditlog.person_ids(e)]
    if not about_hp:
        inconclusive("no entry names the health professional (see EHDS-LOG-003)")
    for entry in about_hp:
        displays = [((a.get("who") or {}).get("display") or a.get("name") or "") for a in entry.get("agent", [])]
        assert any(displays), f"entry {entry.get('id', '?')} has no readable name of who accessed the data"
        assert auditlog.categories(entry) or any(
            (ent.get("what") or {}).get("display") for ent in entry.get("entity", [])), (
            f"entry {entry.get('id', '?')} does not say which data was accessed in a readable way")


@pytest.mark.requirement("EHDS-LOG-008")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_auditor_can_review_the_log(sut, accounts, new_patient, documents, evidence):
    """Procedure: the health professional files and fetches a patient summary for each of two fresh patients; the
    auditor logs in and reads each patient's access log. Observed: whether the auditor is refused, and each
    patient's entries. Decides EHDS-LOG-008: the auditor must be able to read the log, each patient's log must be
    non-empty, made only of FHIR AuditEvent resources (analysable by other software) and free of entries
    referencing the other patient; searching beyond per-patient retrieval, and export, are not exercised."""
    hp = sut.login(accounts.hp)
    receipts = [hp.submit(documents.valid(CATEGORY, new_patient())) for _ in range(2)]
    for receipt in receipts:
        hp.fetch(receipt.patient_id, CATEGORY)
    try:
        auditor = sut.login(accounts.auditor)
        logs = {r.patient_id: auditor.access_log(r.patient_id) for r in receipts}
    except Denied as answer:
        raise AssertionError(f"the auditor cannot review the access log: {answer.reason}") from None
    for pid, entries in logs.items():
        assert entries, f"the auditor finds no entry for patient {pid} after accesses to their data"
        assert all(e.get("resourceType") == "AuditEvent" for e in entries), (
            "the access log is not made of FHIR AuditEvent resources (Annex II 3.3: analysable by other software)")
        others = [e for e in entries if {f"Patient/{p}" for p in logs if p != pid} & auditlog.patient_refs(e)]
        assert not others, f"the log of patient {pid} holds entries about another patient"
    evidence.note(f"auditor reviewed {sum(len(v) for v in logs.values())} entries for {len(logs)} patients")


@pytest.mark.requirement("EHDS-LOG-013")
@pytest.mark.capability(Capability.ACCESS_LOG)
@pytest.mark.capability(Capability.EMERGENCY_ACCESS)
def test_refused_access_is_logged(sut, accounts, new_patient, documents, evidence):
    """Procedure: the health professional files a patient summary for a fresh patient (not restricted) and asks
    for it by id as an emergency access with the blank purpose ' '; the auditor reads the log before and after.
    Inconclusive when that access is granted (any exception counts as a refusal). Observed: the entries the
    attempt added and their outcome. Decides EHDS-LOG-013: a refused attempt must leave an entry marked failed
    (outcome other than 0); only this one kind of refusal is tried."""
    hp = sut.login(accounts.hp)
    receipt = hp.submit(documents.valid(CATEGORY, new_patient()))
    auditor = AuditorView(sut, accounts)
    before = auditor.entries(receipt.patient_id)
    try:
        hp.fetch(receipt.patient_id, CATEGORY, document_id=receipt.document_id, emergency_purpose=" ")
    except Exception as answer:  # noqa: BLE001 - any refusal will do; a grant is EHDS-SEC-008's business
        evidence.note(f"emergency access without purpose refused ({type(answer).__name__})")
    else:
        inconclusive("the emergency access without purpose was granted (see EHDS-SEC-008)")
    added = auditlog.new_entries(before, auditor.entries(receipt.patient_id))
    failed = [e for e in added if str(e.get("outcome", "0")) != "0"]
    assert failed, "the refused access attempt left no log entry with a failure outcome"
    evidence.add("document", failed[0], label="log entry of the refused attempt")


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.")


def _payload_found(value: object, path: str = "AuditEvent") -> str | None:
    """Where an entry carries clinical payload (an embedded FHIR resource) or a credential."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _payload_found(item, f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _payload_found(item, f"{path}[{index}]")
            if found:
                return found
        return None
    if not isinstance(value, str):
        return None
    if _JWT.search(value) or value.startswith("Bearer "):
        return f"{path} holds a token"
    text = value.strip()
    if text.startswith("{") and '"resourceType"' in text:
        try:
            embedded = json.loads(text)
        except ValueError:
            return None
        if isinstance(embedded, dict) and embedded.get("resourceType"):
            return f"{path} embeds a {embedded['resourceType']} resource"
    return None


@pytest.mark.requirement("EHDS-LOG-014")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_log_entries_follow_balp_and_hold_no_payload(sut, accounts, new_patient, documents, evidence,
                                                     fhir_validator):
    """Procedure: the module's scenario: file a patient summary for a fresh patient as the health professional,
    list the patient's documents, then fetch the patient summary, reading the patient's access log as the auditor
    before and after each access to tell apart the entries each access added (inconclusive when they added none,
    or when the auditor is refused). Observed: each new entry validated offline as a FHIR R4 resource (its base
    definition and the profiles it declares in meta.profile; no BALP profile is imposed), and every string in it
    scanned for a JWT-shaped or 'Bearer ' token and for an embedded JSON FHIR resource. Decides EHDS-LOG-014: an
    entry with a validation error, a token or an embedded resource fails; the BALP shape itself and clinical
    content in other forms (free text, encoded data) are not checked."""
    s = run_scenario(sut, accounts, new_patient, documents, evidence)
    for entry in s.entries:
        issues = [i for i in fhir_validator.validate(entry) if i.is_error]
        if issues:
            evidence.validation(issues, label=f"AuditEvent {entry.get('id', '?')}")
        assert not issues, (f"log entry {entry.get('id', '?')} is not a valid FHIR R4 AuditEvent: "
                            f"{issues[0].location}: {issues[0].message}")
        found = _payload_found(entry)
        assert not found, f"log entry {entry.get('id', '?')} carries payload or credentials: {found}"
