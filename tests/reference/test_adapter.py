"""The reference adapter as the harness sees it: found by name, the contract, clean-up."""

from __future__ import annotations

import pytest

from conformance.adapter import (
    PRIORITY_CATEGORIES,
    Actor,
    ActorKind,
    Adapter,
    Capability,
    Denied,
    NotFound,
    Rejected,
    Restriction,
    Session,
    create_adapter,
)
from conformance.adapters.reference import create
from conformance.errors import UsageError
from tests.reference.bundles import document, new_patient_identifier


@pytest.fixture
def adapter():
    made = create({"validation": "structural"})
    yield made
    made.close()


def test_registered_under_the_name_reference():
    made = create_adapter("reference")
    try:
        assert isinstance(made, Adapter)
        assert made.describe().product == "ehds-conformance reference EHR"
    finally:
        made.close()


def test_describe_declares_everything_but_http_and_the_client_role(adapter):
    d = adapter.describe()
    assert d.capabilities == frozenset(Capability) - {Capability.HTTP, Capability.FOREIGN_SUMMARY_CLIENT}
    assert d.produces == d.consumes == frozenset(PRIORITY_CATEGORIES)
    assert d.to_json()["vendor"] and d.version


def test_accounts_two_professionals_in_two_organisations_and_an_auditor(adapter):
    accounts = adapter.test_accounts()
    assert accounts.hp.kind is accounts.hp_other.kind is ActorKind.HEALTH_PROFESSIONAL
    assert accounts.hp.organisation != accounts.hp_other.organisation
    assert accounts.auditor.kind is ActorKind.AUDITOR
    for actor in (accounts.hp, accounts.hp_other, accounts.auditor):
        assert actor.credentials["password"] not in repr(actor)
        assert "password" not in str(actor.describe())


def test_login_checks_credentials(adapter):
    accounts = adapter.test_accounts()
    session = adapter.login(accounts.hp)
    assert isinstance(session, Session) and session.actor == accounts.hp
    with pytest.raises(Denied):
        adapter.login(accounts.anonymous)
    with pytest.raises(Denied):
        adapter.login(Actor(ActorKind.HEALTH_PROFESSIONAL, accounts.hp.identifier, organisation=accounts.hp.organisation,
                            credentials={"password": accounts.hp_other.credentials["password"]}))
    with pytest.raises(Denied):
        adapter.login(accounts.patient(new_patient_identifier()))  # not a patient of this EHR


def test_a_whole_contract_round_trip(adapter):
    accounts = adapter.test_accounts()
    hp = adapter.login(accounts.hp)
    ident = new_patient_identifier()
    bundle = document("patient-summary", ident)
    receipt = hp.submit(bundle)
    lab = hp.submit(document("laboratory", ident))
    pid = hp.find_patient(ident)
    assert pid == receipt.patient_id == lab.patient_id
    assert hp.fetch(pid, "patient-summary") == bundle
    patient = adapter.login(accounts.patient(ident))
    patient.restrict(pid, Restriction(categories=frozenset({"laboratory"})))
    assert [d.category for d in hp.list_documents(pid)] == ["patient-summary"]
    with pytest.raises(NotFound):
        hp.fetch(pid, "laboratory")
    assert hp.fetch(pid, "laboratory", emergency_purpose="anaphylaxis")["type"] == "document"
    assert len(adapter.login(accounts.auditor).access_log(pid)) == len(patient.access_log(pid)) >= 5
    with pytest.raises(Rejected):
        hp.submit({"resourceType": "Bundle", "type": "collection"})


def test_close_removes_the_temporary_database(tmp_path):
    made = create()
    path = made.ehr.store.path
    assert path.exists()
    made.close()
    assert not path.parent.exists()


def test_a_given_database_is_kept_and_reused(tmp_path):
    db = tmp_path / "kept" / "ehr.sqlite"
    first = create({"db": str(db), "validation": "structural", "passwords": {"hp": "fixed"}})
    ident = new_patient_identifier()
    first.login(first.test_accounts().hp).submit(document("imaging", ident))
    first.close()
    assert db.exists()
    second = create({"db": str(db), "passwords": {"hp": "fixed"}})
    try:
        assert second.test_accounts().hp.credentials["password"] == "fixed"
        assert second.login(second.test_accounts().hp).find_patient(ident)
    finally:
        second.close()


@pytest.mark.parametrize("config,message", [
    ({"database": "x"}, "unknown configuration keys"),
    ({"validation": "none"}, "validation must be"),
    ({"passwords": "secret"}, "passwords"),
])
def test_bad_configuration_is_a_usage_error(config, message):
    with pytest.raises(UsageError, match=message):
        create(config)
