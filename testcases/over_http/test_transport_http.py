"""EHDS-SEC-001: API traffic is protected with TLS 1.2 or later; plain HTTP yields no data."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import urllib.parse

import pytest

from conformance.adapter import Capability
from conformance.checks import inconclusive
from conformance.errors import AdapterError

REQ = "EHDS-SEC-001"
OLD_VERSIONS = (("TLS 1.0", ssl.TLSVersion.TLSv1), ("TLS 1.1", ssl.TLSVersion.TLSv1_1))


def _resource_type(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value.get("resourceType") if isinstance(value, dict) else None


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _host_port(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "localhost", parts.port or (443 if parts.scheme == "https" else 80)


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_plain_http_gives_no_data(http, accounts, seeded, evidence):
    """Procedure: fail at once when the SUT's base_url is not https; else file a patient summary for a fresh patient
    and GET metadata and Patient/{id}/$summary with the scheme switched to http:// (same host and port), carrying
    the health professional's token only when the SUT is on loopback (no token otherwise); a URL that gives no
    answer at all passes. Observed: each plain-HTTP answer's status and body. Decides EHDS-SEC-001: plain HTTP must
    give no data, so a 2xx, any of the patient's identifier, family name, birth date or document title in the body,
    or a FHIR resource other than OperationOutcome fails."""
    assert http.uses_tls, (f"the SUT is reached at {http.base_url}: plain HTTP, so its traffic is not protected "
                           "by TLS (configure an https:// base_url)")
    s = seeded()
    host, _port = _host_port(http.base_url)
    token = None
    if _is_loopback(host):  # a real token never crosses a network in clear text, not even for a test
        token = http.token(accounts.hp, lifetime=30 if http.settings.lifetime_parameter else None).access_token
    else:
        evidence.note("the SUT is not on this machine: the plain-HTTP probes carry no token")
    with http.plain_client() as plain:  # the adapter's bounded transport, without TLS
        for path in ("metadata", f"Patient/{s.patient_id}/$summary"):
            url = http.plain_http_url(path)
            try:
                response = http.request("GET", url, token=token, client=plain, label="plain HTTP",
                                        cleartext_loopback=True)
            except AdapterError as failure:
                evidence.note(f"plain HTTP to {url.split('?')[0]} got no answer: {str(failure)[:200]}")
                continue
            assert not (200 <= response.status_code < 300), (
                f"GET {url} over plain HTTP answered HTTP {response.status_code}")
            leaked = [v for v in s.secrets() if v.encode() in response.content]
            assert not leaked, f"plain HTTP to {url} returned health data of the patient ({leaked})"
            kind = _resource_type(response.content)
            assert kind in (None, "OperationOutcome"), f"plain HTTP to {url} returned a {kind} resource"
            evidence.note(f"plain HTTP to {url} answered {response.status_code} without data")


@pytest.mark.requirement(REQ)
@pytest.mark.capability(Capability.HTTP)
def test_tls_before_1_2_is_refused(http, evidence):
    """Procedure: inconclusive when the SUT is not reached over TLS; open a TLS connection to the base URL's host
    and port with the adapter's trust settings and require TLS 1.2 or 1.3 to be negotiated; then try a handshake
    limited to TLS 1.0, then one limited to TLS 1.1 (no certificate check, all ciphers; inconclusive when this
    machine's TLS library cannot offer the version). Observed: the negotiated versions and whether each old
    handshake completes. Decides EHDS-SEC-001: traffic must be protected with TLS 1.2 or later (BCP 195), so a
    completed TLS 1.0 or 1.1 handshake fails; only the FHIR base URL's endpoint is probed."""
    if not http.uses_tls:
        inconclusive("the SUT is not reached over TLS (see the plain-HTTP check of this requirement)")
    host, port = _host_port(http.base_url)
    context = http.ssl_context()
    with socket.create_connection((host, port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        current = tls.version()
    evidence.note(f"a default client negotiates {current}")
    assert current in ("TLSv1.2", "TLSv1.3"), f"the SUT negotiated {current} with a modern client"
    for label, version in OLD_VERSIONS:
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        try:
            old.minimum_version = version
            old.maximum_version = version
            old.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError) as exc:
            inconclusive(f"this machine's TLS library cannot offer {label} ({exc})")
        try:
            with socket.create_connection((host, port), timeout=10) as raw, \
                    old.wrap_socket(raw, server_hostname=host) as tls:
                got = tls.version()
        except ssl.SSLError as exc:
            if "NO_PROTOCOLS_AVAILABLE" in str(exc).upper() or exc.reason == "NO_PROTOCOLS_AVAILABLE":
                inconclusive(f"this machine's TLS library refuses to offer {label}")
            evidence.note(f"{label} handshake refused by the SUT ({exc.reason or exc})")
            continue
        except OSError as exc:
            evidence.note(f"{label} handshake refused by the SUT (connection closed: {exc})")
            continue
        raise AssertionError(f"the SUT accepted a {label} handshake (negotiated {got}); BCP 195 requires 1.2+")
