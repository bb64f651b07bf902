"""Each mutant breaks exactly the rule it is named after, seen directly (no harness run).

One scripted scenario observes ~25 aspects of an EHR through the adapter contract
(logins, submissions, restriction, emergency access, the log's 3.2 content). The
reference gives the "all correct" observation; each mutant must differ from it in
exactly the aspects listed for it in ``BROKEN`` — so a mutant that breaks nothing,
or breaks more than its one rule, fails here in seconds, before the full catalogue
run (tests/mutants/test_catalogue.py) is even needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from typing import Any

import pytest

from conformance import auditlog
from conformance.adapter import Denied, NotFound, Rejected, Restriction, create_adapter
from tests.mutants import ERROR_MUTANTS, MUTANTS
from tests.reference.bundles import broken, document, new_patient_identifier

CONFIG = {"validation": "structural"}
TELLTALES = ("restrict", "masked", "withheld", "redacted", "hidden")

#: mutant -> the aspects of `observe` it must change (and no others)
BROKEN: dict[str, set[str]] = {
    "forgets_read_log": {"log.read_logged", "log.read.org", "log.read.person", "log.read.category",
                         "log.read.time", "log.read.origin", "log.read.patient"},
    "log_without_organisation": {"log.read.org", "log.list.org"},
    "log_without_person": {"log.read.person", "log.list.person"},
    "log_without_category": {"log.read.category", "log.list.category"},
    "log_without_timezone": {"log.read.time", "log.list.time"},
    "log_wrong_time": {"log.read.time", "log.list.time"},
    "log_without_origin": {"log.read.origin", "log.list.origin"},
    "log_without_patient": {"log.read.patient", "log.list.patient"},
    "leaks_restricted_data": {"restriction.listed", "restriction.fetched"},
    "reveals_restriction": {"restriction.telltale"},
    "accepts_anonymous": {"auth.anonymous"},
    "accepts_wrong_password": {"auth.wrong_password"},
    "stores_invalid_document": {"submit.invalid_kept"},
    "accepts_invalid_document": {"submit.invalid_rejected", "submit.invalid_kept"},
    "emergency_without_purpose": {"emergency.blank_granted", "log.refused_logged"},
    "emergency_not_flagged_in_log": {"log.emergency_flagged"},
    "returns_wrong_patient": {"export.right_patient"},
    "returns_collection_bundle": {"export.document"},
    "patient_cannot_read_own_log": {"log.patient_reads"},
    "forgets_refused_attempts": {"log.refused_logged"},
}


def _answer(call: Any) -> str:
    """'ok' or the name of the contract answer raised."""
    try:
        call()
    except (Denied, NotFound, Rejected) as answer:
        return type(answer).__name__
    return "ok"


def _content(entry: dict[str, Any] | None, ident: str, hp: Any, custodians: set[str], t0: dt.datetime,
             t1: dt.datetime) -> dict[str, bool]:
    if entry is None:
        return dict.fromkeys(("org", "person", "category", "time", "origin", "patient"), False)
    when = auditlog.recorded(entry)
    return {
        "org": auditlog.identifier_value(hp.organisation.identifier) in auditlog.organisation_ids(entry),
        "person": auditlog.identifier_value(hp.identifier) in auditlog.person_ids(entry),
        "category": "patient-summary" in auditlog.categories(entry),
        "time": when is not None and t0 - dt.timedelta(minutes=1) <= when <= t1 + dt.timedelta(minutes=1),
        "origin": bool(custodians & auditlog.origin_ids(entry)),
        "patient": auditlog.identifier_value(ident) in auditlog.patient_refs(entry),
    }


def observe(factory: str) -> dict[str, Any]:
    adapter = create_adapter(factory, CONFIG)
    try:
        accounts = adapter.test_accounts()
        hp, auditor = adapter.login(accounts.hp), adapter.login(accounts.auditor)
        seen: dict[str, Any] = {
            "auth.anonymous": _answer(lambda: adapter.login(accounts.anonymous)),
            "auth.wrong_password": _answer(lambda: adapter.login(dataclasses.replace(
                accounts.hp, credentials={"password": "wrong"}))),
        }
        # submissions
        ident = new_patient_identifier()
        bundle = document("patient-summary", ident)
        receipt = hp.submit(bundle)
        pid = receipt.patient_id
        other = new_patient_identifier()
        hp.submit(document("patient-summary", other))
        invalid_ident = new_patient_identifier()
        seen["submit.invalid_rejected"] = _answer(
            lambda: hp.submit(broken(document("patient-summary", invalid_ident), "dangling-reference")))
        seen["submit.invalid_kept"] = _answer(lambda: hp.find_patient(invalid_ident))
        # accesses and their log entries
        t0 = dt.datetime.now(dt.UTC)
        log0 = auditor.access_log(pid)
        hp.list_documents(pid)
        log1 = auditor.access_log(pid)
        exported = hp.fetch(pid, "patient-summary")
        log2 = auditor.access_log(pid)
        t1 = dt.datetime.now(dt.UTC)
        list_entries, read_entries = auditlog.new_entries(log0, log1), auditlog.new_entries(log1, log2)
        custodians = auditlog.bundle_custodians(bundle)
        seen["log.read_logged"] = bool(read_entries)
        for name, entries in (("list", list_entries), ("read", read_entries)):
            for aspect, ok in _content(entries[0] if entries else None, ident, accounts.hp, custodians,
                                       t0, t1).items():
                seen[f"log.{name}.{aspect}"] = ok
        subject = next(e["resource"] for e in exported["entry"] if e["resource"]["resourceType"] == "Patient")
        seen["export.document"] = exported.get("type") == "document"
        seen["export.right_patient"] = {i["value"] for i in subject["identifier"]} == {ident.split("|")[1]}
        # restriction and emergency access
        patient = adapter.login(accounts.patient(ident))
        second = hp.submit(document("patient-summary", ident, title="second summary"))
        patient.restrict(pid, Restriction(document_ids=frozenset({second.document_id})))
        listing = hp.list_documents(pid)
        latest = hp.fetch(pid, "patient-summary")
        seen["restriction.listed"] = second.document_id in {d.document_id for d in listing}
        seen["restriction.fetched"] = latest["entry"][0]["resource"]["title"] == "second summary"
        text = (json.dumps([d.__dict__ for d in listing]) + json.dumps(latest)).lower()
        seen["restriction.telltale"] = sorted(w for w in TELLTALES if w in text)
        before = auditor.access_log(pid)
        seen["emergency.blank_granted"] = _answer(
            lambda: hp.fetch(pid, "patient-summary", document_id=second.document_id, emergency_purpose=" "))
        refused = auditlog.new_entries(before, auditor.access_log(pid))
        seen["log.refused_logged"] = any(e.get("outcome") != "0" for e in refused)
        before = auditor.access_log(pid)
        seen["emergency.granted"] = _answer(
            lambda: hp.fetch(pid, "patient-summary", document_id=second.document_id, emergency_purpose="coma"))
        seen["log.emergency_flagged"] = any(auditlog.is_emergency(e)
                                            for e in auditlog.new_entries(before, auditor.access_log(pid)))
        seen["log.patient_reads"] = _answer(lambda: patient.access_log(pid))
        seen["log.hp_reads"] = _answer(lambda: hp.access_log(pid))
        seen["log.auditor_reads"] = _answer(lambda: auditor.access_log(pid))
        return seen
    finally:
        adapter.close()


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return observe("reference")


def test_the_reference_gets_every_aspect_right(reference):
    wrong = {k: v for k, v in reference.items()
             if v not in (True, "ok", []) and k not in ("auth.anonymous", "auth.wrong_password",
                                                       "submit.invalid_rejected", "submit.invalid_kept",
                                                       "emergency.blank_granted", "log.hp_reads",
                                                       "restriction.listed", "restriction.fetched")}
    assert not wrong
    assert reference["auth.anonymous"] == reference["auth.wrong_password"] == "Denied"
    assert reference["submit.invalid_rejected"] == "Rejected" and reference["submit.invalid_kept"] == "NotFound"
    assert reference["emergency.blank_granted"] == "Denied" and reference["log.hp_reads"] == "Denied"
    assert reference["restriction.listed"] is reference["restriction.fetched"] is False


#: mutants whose broken rule this scenario does not observe; tests/mutants/test_catalogue.py covers them
CATALOGUE_ONLY: frozenset[str] = frozenset({
    "auditor_cannot_read_log",  # the scenario reads the log as the auditor
    "ignores_category_filter", "find_patient_ignores_system", "log_copies_payload",
    "overclaims_imaging",  # the scenario submits no imaging document
    "partial_export",  # the scenario makes no full export
    "drops_substitution",  # the scenario exports no dispensation (ED-001, ehds-edispensation)
    # fr-sesali requirements (XB-006, FR-001) and CDA listings:
    "reformats_cda", "drops_secondary_identifiers", "exports_first_identifier_only", "cda_listed_with_local_date",
    "professionals_cannot_submit",  # the scenario starts with the professional's submission
    "display_not_logged", "display_skips_authorization",  # the scenario uses no translated display
})


def test_every_registered_mutant_is_covered_here():
    assert set(BROKEN) | CATALOGUE_ONLY == set(MUTANTS) - ERROR_MUTANTS


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_mutant_breaks_its_rule_and_nothing_else(name, reference):
    seen = observe(MUTANTS[name].factory)
    changed = {k for k in reference if seen[k] != reference[k]}
    assert changed == BROKEN[name], {k: (reference[k], seen.get(k)) for k in changed ^ BROKEN[name]}


def test_crashes_on_submit_raises_outside_the_contract():
    adapter = create_adapter(MUTANTS["crashes_on_submit"].factory, CONFIG)
    try:
        hp = adapter.login(adapter.test_accounts().hp)
        with pytest.raises(RuntimeError):
            hp.submit(document("patient-summary", new_patient_identifier()))
        with pytest.raises(NotFound):  # everything else still answers
            hp.find_patient(new_patient_identifier())
    finally:
        adapter.close()


def test_hangs_on_fetch_never_returns():
    adapter = create_adapter(MUTANTS["hangs_on_fetch"].factory, CONFIG)
    try:
        hp = adapter.login(adapter.test_accounts().hp)
        receipt = hp.submit(document("patient-summary", new_patient_identifier()))
        assert hp.list_documents(receipt.patient_id)
        call = threading.Thread(target=hp.fetch, args=(receipt.patient_id, "patient-summary"), daemon=True)
        call.start()
        call.join(1.0)
        assert call.is_alive(), "fetch returned: the mutant does not hang"
    finally:
        adapter.close()
