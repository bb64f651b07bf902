"""The bounded transport against a hostile server: each case ends within its deadline, with
bounded memory, no worker thread left reading, and an error that names the request.

Limits used here (per request): total 2 s, body 5 MB, 5 pages, 5,000 entries.
"""

from __future__ import annotations

import threading
import time

import pytest

from conformance.adapters.fhir_rest import create
from conformance.errors import AdapterError, AdapterTimeout
from conformance.guard import GuardedAdapter
from tests.http.hostile import HostileServer, PeakRss

TOTAL = 2.0


@pytest.fixture(scope="module")
def hostile():
    server = HostileServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def adapter(hostile, monkeypatch):
    monkeypatch.setenv("HOSTILE_TEST_TOKEN", "test-only-hostile-token")
    bearer = {"login": "bearer", "token_env": "HOSTILE_TEST_TOKEN"}
    made = create({
        "sut": {"base_url": hostile.base_url},
        "limits": {"total": TOTAL, "read": 1.0, "max_body": 5 * 1024 * 1024, "max_pages": 5, "max_entries": 5000},
        "actors": {"hp": {"identifier": "urn:x|hp", **bearer}, "hp_other": {"identifier": "urn:x|hp2", **bearer},
                   "auditor": {"identifier": "urn:x|dpo", "kind": "auditor", **bearer}},
    })
    yield made
    made.close()


def _timed(fn):
    with PeakRss() as measured:
        try:
            fn()
        except (AdapterError, AdapterTimeout) as exc:
            measured.error = exc
        else:
            measured.error = None
    return measured


def test_slow_drip_body_is_cut_at_the_total_deadline(adapter):
    measured = _timed(adapter.capability_statement)
    assert isinstance(measured.error, AdapterTimeout), measured.error
    assert "GET /fhir/metadata" in str(measured.error) and "2 s" in str(measured.error)
    assert measured.wall < TOTAL + 1.5, f"the drip lasted {measured.wall:.1f} s"


def test_slow_drip_headers_are_cut_at_the_total_deadline(adapter):
    probe = adapter.http_probe()
    measured = _timed(lambda: probe.request("GET", "drip-headers"))
    assert isinstance(measured.error, AdapterTimeout) and "GET /fhir/drip-headers" in str(measured.error)
    assert measured.wall < TOTAL + 1.5, f"the header drip lasted {measured.wall:.1f} s"


def test_endless_body_is_refused_at_the_size_limit_with_bounded_memory(adapter):
    probe = adapter.http_probe()
    measured = _timed(lambda: probe.request("GET", "huge"))
    assert isinstance(measured.error, AdapterError) and "GET /fhir/huge" in str(measured.error)
    assert "5242880-byte limit" in str(measured.error)
    assert measured.growth_mb < 40, f"reading a refused body grew memory by {measured.growth_mb:.0f} MB"
    assert measured.wall < TOTAL + 1.5


def test_declared_huge_body_is_refused_unread(adapter):
    probe = adapter.http_probe()
    measured = _timed(lambda: probe.request("GET", "huge-declared"))
    assert isinstance(measured.error, AdapterError) and "refused unread" in str(measured.error)
    assert "GET /fhir/huge-declared" in str(measured.error)
    assert measured.growth_mb < 20


def test_endless_paging_stops_at_the_entry_limit(adapter):
    hp = adapter.login(adapter.test_accounts().hp)
    measured = _timed(lambda: hp.find_patient("urn:x|anyone"))
    assert isinstance(measured.error, AdapterError), measured.error
    assert "more than 5000 entries" in str(measured.error) and "GET /fhir/Patient" in str(measured.error)
    assert measured.wall < 10 and measured.growth_mb < 100


def test_redirect_off_host_is_not_followed(adapter, hostile):
    hp = adapter.login(adapter.test_accounts().hp)
    with pytest.raises(AdapterError) as failed:
        hp._send("GET", "redirect", "probe")
    text = str(failed.value)
    assert "GET /fhir/redirect answered HTTP 302" in text and "https://elsewhere.invalid" in text
    assert "not followed" in text
    exchanges = adapter.drain_exchanges()
    assert all("elsewhere.invalid" not in e.get("url", "") for e in exchanges), "a request went off-host"


def test_a_token_never_goes_to_another_origin(adapter):
    probe = adapter.http_probe()
    with pytest.raises(AdapterError, match="refusing to send a bearer token"):
        probe.request("GET", "https://elsewhere.invalid/fhir/metadata", token="test-only-token")
    with pytest.raises(AdapterError, match="refusing to send a bearer token"):  # not even as a raw header
        probe.request("GET", "https://elsewhere.invalid/fhir/metadata",
                      headers={"Authorization": "Bearer test-only-token"})


def test_non_json_answer_is_an_error_naming_the_request(adapter):
    hp = adapter.login(adapter.test_accounts().hp)
    with pytest.raises(AdapterError) as failed:
        hp._send("GET", "html", "probe")
    assert "GET /fhir/html answered HTTP 200 (text/html)" in str(failed.value)


def test_missing_route_names_method_path_and_status(adapter):
    hp = adapter.login(adapter.test_accounts().hp)
    with pytest.raises(Exception) as failed:
        hp.fetch("p1", "patient-summary")
    assert "GET /fhir/Patient/p1/$summary answered HTTP 404" in str(failed.value)


def test_no_worker_thread_outlives_a_guarded_call(adapter):
    guarded = GuardedAdapter(adapter, timeout=TOTAL + 3)
    started = time.monotonic()
    with pytest.raises(AdapterError, match="GET /fhir/metadata: no complete answer within 2 s"):
        guarded.capability_statement()  # the transport's own timeout, reported through the guard
    assert time.monotonic() - started < TOTAL + 1.5
    time.sleep(0.2)
    left = [t.name for t in threading.enumerate() if t.name.startswith("adapter-call:")]
    assert not left, f"worker threads still running after the call: {left}"


def test_without_a_capability_statement_describe_still_answers(adapter):
    description = adapter.describe()
    assert "no CapabilityStatement" in description.extra["capabilities_source"]
    assert "GET /fhir/metadata" in description.extra["capabilities_source"]
