"""The `fhir` adapter against the reference server over HTTPS: the contract maps onto FHIR REST,
answers map onto Denied/Rejected/NotFound/NotSupported, transport failures onto AdapterError, and
every exchange is kept as evidence with no credential in it."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import tomllib

import pytest

from conformance.adapter import Capability, Denied, NotFound, Rejected, Restriction
from conformance.adapters.fhir_rest import Settings, create
from conformance.errors import AdapterError, AdapterTimeout, UsageError
from tests.http.conftest import adapter_for
from tests.reference.bundles import broken, cda, document, new_patient_identifier


def test_describe_declares_http_and_what_the_sut_file_says(adapter, served):
    d = adapter.describe()
    assert Capability.HTTP in d.capabilities and Capability.ACCESS_LOG in d.capabilities
    assert d.product == served.service.product and d.extra["base_url"] == served.fhir_base
    assert d.produces == d.consumes and "patient-summary" in d.produces


def test_the_contract_round_trip(adapter):
    accounts = adapter.test_accounts()
    hp, other, auditor = (adapter.login(a) for a in (accounts.hp, accounts.hp_other, accounts.auditor))
    ident = new_patient_identifier()
    receipt = hp.submit(document("patient-summary", ident))
    lab = hp.submit(document("laboratory", ident))
    assert lab.patient_id == receipt.patient_id
    assert hp.find_patient(ident) == receipt.patient_id
    with pytest.raises(NotFound):
        hp.find_patient(new_patient_identifier())
    assert {d.category for d in other.list_documents(receipt.patient_id)} == {"patient-summary", "laboratory"}
    assert [d.document_id for d in hp.list_documents(receipt.patient_id, "laboratory")] == [lab.document_id]
    assert other.fetch(receipt.patient_id, "laboratory")["type"] == "document"
    assert hp.fetch(receipt.patient_id, "patient-summary", document_id=receipt.document_id)["type"] == "document"
    patient = adapter.login(accounts.patient(ident))
    patient.restrict(receipt.patient_id, Restriction(categories=frozenset({"laboratory"})))
    assert [d.category for d in hp.list_documents(receipt.patient_id)] == ["patient-summary"]
    with pytest.raises(NotFound):
        hp.fetch(receipt.patient_id, "laboratory")
    assert hp.fetch(receipt.patient_id, "laboratory", emergency_purpose="unconscious")["type"] == "document"
    log = auditor.access_log(receipt.patient_id)
    assert log and all(e["resourceType"] == "AuditEvent" for e in log)
    assert any(e.get("purposeOfEvent") for e in log), "the emergency access must be in the log"
    assert patient.access_log(receipt.patient_id), "the patient reads their own log"
    with pytest.raises(Denied):
        hp.access_log(receipt.patient_id)


def test_cda_is_submitted_as_binary(adapter):
    hp = adapter.login(adapter.test_accounts().hp)
    receipt = hp.submit(cda("1.2.250.1.213.1.4.8", new_patient_identifier().split("|")[1]))
    assert hp.fetch(receipt.patient_id, "patient-summary", document_id=receipt.document_id)["type"] == "document"


def test_answers_map_to_the_contract(adapter):
    accounts = adapter.test_accounts()
    hp = adapter.login(accounts.hp)
    with pytest.raises(Rejected) as rejected:
        hp.submit(broken(document("patient-summary", new_patient_identifier()), "no-composition-first"))
    assert rejected.value.details["status"] == 422 and rejected.value.reason
    with pytest.raises(Denied):
        adapter.login(dataclasses.replace(accounts.hp, credentials={"password": "wrong"}))
    anonymous = adapter.login(accounts.anonymous)
    with pytest.raises(Denied):
        anonymous.find_patient("urn:x|y")
    with pytest.raises(NotFound):
        hp.fetch("pat-does-not-exist", "patient-summary")
    with pytest.raises(Rejected):
        hp.restrict("pat-x", Restriction(categories=frozenset({"no-such-category"})))


def test_exchanges_are_recorded_without_credentials(served):
    adapter = adapter_for(served)  # a fresh one: no cached token, so the login is recorded too
    accounts = adapter.test_accounts()
    hp = adapter.login(accounts.hp)
    token = hp._token.access_token  # the test must know the secret to look for it
    try:
        hp.find_patient(new_patient_identifier())
    except NotFound:
        pass
    items = adapter.drain_exchanges()
    assert adapter.drain_exchanges() == [], "a drain empties the log"
    text = json.dumps(items)
    assert token not in text and accounts.hp.credentials["password"] not in text
    assert token.split(".")[2] not in text, "not even the signature part of the token"
    methods = [(i["method"], i["url"].split("?")[0].rsplit("/", 1)[-1]) for i in items]
    assert ("POST", "authorize") in methods and ("POST", "token") in methods and ("GET", "Patient") in methods
    search = next(i for i in items if i["url"].split("?")[0].endswith("/Patient"))
    assert search["status"] == 200 and search["request_headers"]["authorization"] == "Bearer [REDACTED]"
    assert len(search["body_sha256"]) == 64 and search["body_size"] > 0
    login = next(i for i in items if i["url"].endswith("/authorize"))
    location = login["response_headers"]["location"]
    assert login["status"] == 302 and location.endswith("?code=[REDACTED]&state=[REDACTED]"), location
    again = adapter.login(accounts.hp)
    assert again._token is hp._token, "a valid token for the same credentials is reused"
    with pytest.raises(Denied):
        adapter.login(dataclasses.replace(accounts.hp, credentials={"password": "not-the-password"}))
    adapter.close()


def test_a_stopped_server_and_a_hanging_one_are_errors_not_answers(tmp_path):
    from conformance.server.launch import start_sandbox

    running = start_sandbox(tmp_path / "down", validation="structural", tls=False)
    made = adapter_for(running)
    hp = made.login(made.test_accounts().hp)
    running.stop()
    with pytest.raises(AdapterError) as failed:
        hp.find_patient("urn:x|y")
    assert not isinstance(failed.value, (Denied, NotFound))
    assert made.drain_exchanges()[-1]["status"] is None
    made.close()

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    config = tomllib.loads(running.sut_file.read_text())
    config["sut"].update(base_url=f"http://127.0.0.1:{silent.getsockname()[1]}/fhir",
                         config_dir=str(running.sut_file.parent))
    config["limits"] = {"total": 0.5}
    hanging = create(config)
    release = threading.Event()

    def accept() -> None:  # accepts the connection and never answers
        conn, _ = silent.accept()
        release.wait(10)
        conn.close()

    threading.Thread(target=accept, daemon=True).start()
    with pytest.raises(AdapterTimeout, match=r"GET /fhir/metadata"):
        hanging.capability_statement()
    release.set()
    assert hanging.drain_exchanges()[-1]["error"].startswith("timeout")
    hanging.close()
    silent.close()


@pytest.mark.parametrize("change, message", [
    ({"sut": {"base_url": "ehr.example/fhir"}}, "base_url"),
    ({"actors": {}}, "actors.hp"),
    ({"actors": {"hp": {"identifier": "x", "login": "magic", "client": "ehr-app"}}}, "login = 'magic'"),
    ({"actors": {"hp": {"identifier": "x", "client": "nobody"}}}, "client = 'nobody'"),
    ({"actors": {"hp": {"identifier": "x", "client": "ehr-app", "password_env": "NO_SUCH_VARIABLE_H6"}}},
     "NO_SUCH_VARIABLE_H6"),
])
def test_sut_file_errors_say_what_to_fix(served, change, message):
    config = tomllib.loads(served.sut_file.read_text())
    for table, values in change.items():
        if table == "actors" and values:
            config["actors"] = {**config["actors"], **values}
        elif table == "actors":
            config["actors"] = {}
        else:
            config[table] = {**config[table], **values}
    with pytest.raises(UsageError, match=message.replace("[", r"\[")):
        Settings.parse(config)


def test_declared_capabilities_are_checked(served):
    config = tomllib.loads(served.sut_file.read_text())
    config["sut"]["capabilities"] = ["submit", "telepathy"]
    config["sut"]["config_dir"] = str(served.sut_file.parent)
    made = create(config)
    with pytest.raises(UsageError, match="telepathy"):
        made.describe()
    made.close()


def test_a_token_the_server_no_longer_accepts_is_renewed_once(served):
    from conformance import jose as keys

    made = adapter_for(served)
    hp = made.login(made.test_accounts().hp)
    config = served.server.server.config.app.state.gateway.config
    original = config.signing_key
    config.signing_key = keys.generate("ES384", kid="rotated")  # as after a restart: old tokens are void
    try:
        with pytest.raises(NotFound):
            hp.find_patient(new_patient_identifier())
        statuses = [i["status"] for i in made.drain_exchanges() if i["url"].split("?")[0].endswith("/Patient")]
        assert statuses == [401, 200], statuses
        assert made.login(made.test_accounts().hp)._token is hp._token, "the renewed token is the one reused"
    finally:
        config.signing_key = original
        made.close()
