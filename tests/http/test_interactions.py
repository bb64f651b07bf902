"""Standard FHIR answers behind the contract, on a small loopback server that answers exactly as the
FHIR specification allows (no reference-specific shapes): a create answered 201 + Location with no
body, a create answered with an OperationOutcome, a transaction-response, an MHD document served
as a Binary; and the credential rules (passwords only to the configured authorization server,
over https or loopback)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import urllib.parse

import pytest

from conformance.adapter import Capability
from conformance.adapters.fhir_rest import create, mapping
from conformance.errors import AdapterError, UsageError
from tests.reference.bundles import document, new_patient_identifier


class CannedServer:
    """Answers each request with the first canned reply whose (method, path prefix) matches; records
    what it was sent. One exchange per connection; the accept loop stops on close()."""

    def __init__(self, routes: list[tuple[str, str, int, dict, object]]) -> None:
        self.routes = routes
        self.received: list[tuple[str, str, bytes]] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/fhir"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    self._serve(conn)
                except OSError:
                    pass

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target = lines[0].split(" ")[:2]
        length = next((int(v) for k, _, v in (h.partition(": ") for h in lines[1:]) if k.lower() == "content-length"), 0)
        while len(body) < length:
            body += conn.recv(65536)
        self.received.append((method, target, body))
        path = urllib.parse.urlsplit(target).path.removeprefix("/fhir").lstrip("/")
        for want_method, prefix, status, headers, reply in self.routes:
            if method == want_method and path.startswith(prefix):
                break
        else:
            status, headers, reply = 404, {}, {"resourceType": "OperationOutcome",
                                                "issue": [{"severity": "error", "code": "not-found",
                                                           "diagnostics": "no such route"}]}
        payload = b"" if reply is None else json.dumps(reply).encode()
        lines = [f"HTTP/1.1 {status} X", "Connection: close", f"Content-Length: {len(payload)}",
                 "Content-Type: application/fhir+json", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        conn.sendall("\r\n".join(lines).encode() + payload)


def _adapter(base: str, **tables):
    bearer = {"login": "bearer", "token_env": "INTERACTIONS_TEST_TOKEN"}
    config = {"sut": {"base_url": base},
              "actors": {"hp": {"identifier": "urn:x|hp", **bearer}, "hp_other": {"identifier": "urn:x|hp2", **bearer},
                         "auditor": {"identifier": "urn:x|dpo", "kind": "auditor", **bearer}}, **tables}
    return create(config)


@pytest.fixture(autouse=True)
def _token(monkeypatch):
    monkeypatch.setenv("INTERACTIONS_TEST_TOKEN", "test-only-token")


def _searchset(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def test_create_answered_201_with_location_and_no_body_is_a_receipt():
    ident = new_patient_identifier()
    server = CannedServer([
        ("POST", "Bundle", 201, {"Location": "http://127.0.0.1/fhir/Bundle/doc-7/_history/1"}, None),
        ("GET", "Patient", 200, {}, _searchset({"resourceType": "Patient", "id": "pat-3"})),
    ])
    try:
        made = _adapter(server.base_url)
        receipt = made.login(made.test_accounts().hp).submit(document("patient-summary", ident))
    finally:
        server.close()
    assert (receipt.document_id, receipt.patient_id) == ("doc-7", "pat-3")
    search = next(t for m, t, _ in server.received if m == "GET")
    assert urllib.parse.unquote(search).endswith(f"Patient?identifier={ident}")


def test_create_answered_with_an_operation_outcome_uses_the_location():
    server = CannedServer([
        ("POST", "Bundle", 201, {"Location": "Bundle/doc-8"},
         {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}),
        ("GET", "Patient", 200, {}, _searchset({"resourceType": "Patient", "id": "pat-4"})),
    ])
    try:
        made = _adapter(server.base_url)
        receipt = made.login(made.test_accounts().hp).submit(document("patient-summary", new_patient_identifier()))
    finally:
        server.close()
    assert (receipt.document_id, receipt.patient_id) == ("doc-8", "pat-4")


def test_a_create_that_files_no_patient_says_to_use_a_transaction():
    server = CannedServer([("POST", "Bundle", 201, {"Location": "Bundle/doc-9"}, None),
                           ("GET", "Patient", 200, {}, _searchset())])
    try:
        made = _adapter(server.base_url)
        with pytest.raises(AdapterError) as failed:
            made.login(made.test_accounts().hp).submit(document("patient-summary", new_patient_identifier()))
    finally:
        server.close()
    assert "POST /fhir/Bundle answered HTTP 201" in str(failed.value)
    assert 'submit = "transaction"' in str(failed.value)


def test_transaction_submit_reads_the_transaction_response():
    response = {"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "201 Created", "location": "Patient/pat-5/_history/1"}},
        {"response": {"status": "201 Created", "location": "Bundle/doc-5/_history/1"}},
        {"response": {"status": "201 Created", "location": "DocumentReference/ref-5/_history/1"}}]}
    server = CannedServer([("POST", "", 200, {}, response)])
    try:
        made = _adapter(server.base_url, interactions={"submit": "transaction"})
        receipt = made.login(made.test_accounts().hp).submit(document("patient-summary", new_patient_identifier()))
    finally:
        server.close()
    assert (receipt.document_id, receipt.patient_id) == ("ref-5", "pat-5")
    sent = json.loads(server.received[0][2])
    assert sent["type"] == "transaction" and [e["request"]["url"] for e in sent["entry"]] == \
        ["Patient", "Bundle", "DocumentReference"]
    assert sent["entry"][0]["request"]["ifNoneExist"].startswith("identifier=")


def test_transaction_document_reference_carries_the_document_date_and_custodian():
    doc = document("laboratory", new_patient_identifier(), custodian=("urn:org", "lab-3", "Lab Three"))
    reference = mapping.transaction(doc, ["urn:x|1"])["entry"][2]["resource"]
    assert reference["date"] == "2025-03-01T10:00:00+01:00"  # the document's own date, not the time of filing
    assert reference["custodian"]["identifier"] == {"system": "urn:org", "value": "lab-3"}


def test_fetch_by_type_takes_the_newest_document_date_the_later_in_the_searchset_on_a_tie():
    def ref(i: int, date: str) -> dict:
        return {"resourceType": "DocumentReference", "id": f"ref-{i}", "subject": {"reference": "Patient/pat-8"},
                "date": date, "context": {"related": [{"reference": f"Bundle/doc-{i}"}]}}

    refs = [ref(1, "2025-06-01T10:00:00+02:00"), ref(2, "2025-01-15T10:00:00+01:00"),
            ref(3, "2025-06-01T08:00:00Z"), ref(4, "2025-05-31T23:59:59Z")]
    doc = document("laboratory", new_patient_identifier())
    server = CannedServer([("GET", "DocumentReference", 200, {}, _searchset(*refs)),
                           ("GET", "Bundle/doc-3", 200, {}, doc)])
    try:
        made = _adapter(server.base_url, interactions={"fetch": "documentreference"})
        fetched = made.login(made.test_accounts().hp).fetch("pat-8", "laboratory")
    finally:
        server.close()
    assert fetched == doc  # doc-1 and doc-3 are the same instant; doc-3 comes later in the searchset


def test_listing_reads_a_custodian_given_as_a_literal_reference_once():
    refs = [{"resourceType": "DocumentReference", "id": f"ref-{i}", "subject": {"reference": "Patient/pat-7"},
             "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]}, "date": "2025-01-02",
             "custodian": {"reference": "Organization/org-7"}} for i in (1, 2)]
    organisation = {"resourceType": "Organization", "id": "org-7",
                    "identifier": [{"system": "urn:org", "value": "lab-7"}]}
    server = CannedServer([("GET", "DocumentReference", 200, {}, _searchset(*refs)),
                           ("GET", "Organization/org-7", 200, {}, organisation)])
    try:
        made = _adapter(server.base_url)
        listing = made.login(made.test_accounts().hp).list_documents("pat-7")
    finally:
        server.close()
    assert [d.custodian for d in listing] == ["urn:org|lab-7", "urn:org|lab-7"]
    assert [path for _, path, _ in server.received].count("/fhir/Organization/org-7") == 1


def test_mhd_fetch_follows_the_document_reference_to_a_binary():
    doc = document("patient-summary", new_patient_identifier())
    binary = {"resourceType": "Binary", "contentType": "application/fhir+json",
              "data": base64.b64encode(json.dumps(doc).encode()).decode()}
    reference = {"resourceType": "DocumentReference", "id": "ref-6", "subject": {"reference": "Patient/pat-6"},
                 "content": [{"attachment": {"url": "Binary/bin-6"}}]}
    server = CannedServer([("GET", "DocumentReference/ref-6", 200, {}, reference),
                           ("GET", "Binary/bin-6", 200, {}, binary)])
    try:
        made = _adapter(server.base_url, interactions={"submit": "mhd"})
        fetched = made.login(made.test_accounts().hp).fetch("pat-6", "patient-summary", document_id="ref-6")
    finally:
        server.close()
    assert fetched == doc


def test_provide_document_bundle_has_the_mhd_shape():
    bundle = mapping.provide_document_bundle(document("patient-summary", "urn:x|1"), ["urn:x|1"],
                                             "application/fhir+json")
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Binary", "DocumentReference", "List"]
    assert bundle["entry"][3]["resource"]["code"]["coding"][0]["code"] == "submissionset"
    assert bundle["entry"][2]["resource"]["content"][0]["attachment"]["url"] == bundle["entry"][1]["fullUrl"]


def test_capabilities_come_from_a_plain_capability_statement():
    statement = {"resourceType": "CapabilityStatement", "rest": [{
        "interaction": [{"code": "transaction"}],
        "resource": [{"type": "DocumentReference", "interaction": [{"code": "search-type"}]},
                     {"type": "AuditEvent", "interaction": [{"code": "search-type"}]},
                     {"type": "Patient", "operation": [{"name": "everything"}]}]}]}
    assert mapping.capabilities_from_statement(statement) == {Capability.SUBMIT, Capability.EXPORT,
                                                               Capability.ACCESS_LOG, Capability.FULL_EXPORT}


@pytest.mark.parametrize("endpoint, message", [
    ("https://login.elsewhere.invalid/authorize", "neither the SUT's origin"),
    ("http://10.1.2.3/auth/authorize", "neither the SUT's origin"),
])
def test_passwords_go_only_to_the_configured_authorization_server(endpoint, message):
    made = _adapter("https://127.0.0.1:9/fhir")
    made.oauth._config = {"authorization_endpoint": endpoint, "token_endpoint": "https://127.0.0.1:9/auth/token"}
    with pytest.raises(AdapterError, match=message):
        made.oauth.password_endpoint()


def test_passwords_never_go_over_plain_http_off_loopback():
    made = _adapter("https://ehr.example/fhir", auth={"issuer": "http://login.example"})
    made.oauth._config = {"authorization_endpoint": "http://login.example/authorize"}
    with pytest.raises(AdapterError, match="over plain HTTP"):
        made.oauth.password_endpoint()
    made.oauth._config = {"authorization_endpoint": "https://ehr.example/auth/authorize"}
    assert made.oauth.password_endpoint() == "https://ehr.example/auth/authorize"


def test_interactions_table_is_checked():
    with pytest.raises(UsageError, match="submit = 'fax'"):
        _adapter("https://ehr.example/fhir", interactions={"submit": "fax"})
    with pytest.raises(UsageError, match="telepathy is not a contract method"):
        _adapter("https://ehr.example/fhir", interactions={"telepathy": "search"})
