"""EHDS-SEC-001 for real: a self-signed certificate generated here (cryptography), the reference
server on HTTPS, and the transport checks run by `conformance run` — passing over TLS 1.2+,
failing over plain HTTP and against a server that still accepts TLS 1.0."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import time

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conformance.server import runner
from conformance.server.launch import start_sandbox
from tests.http.conftest import check_verdicts, conformance_run, verdicts

TRANSPORT_CHECKS = "test_plain_http_gives_no_data or test_tls_before_1_2_is_refused"


def self_signed(directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1 test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "test.cert.pem", directory / "test.key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_https_is_served_and_plain_http_to_the_same_port_gets_nothing(tmp_path):
    running = start_sandbox(tmp_path, validation="structural")
    try:
        cafile = str(running.box.keydir() / "localhost.cert.pem")
        ok = httpx.get(running.fhir_base + "/metadata", verify=ssl.create_default_context(cafile=cafile))
        assert ok.status_code == 200 and ok.json()["resourceType"] == "CapabilityStatement"
        plain = running.fhir_base.replace("https://", "http://") + "/metadata"
        with pytest.raises(httpx.HTTPError):
            httpx.get(plain, timeout=5)
    finally:
        running.stop()


def test_transport_checks_pass_over_tls_and_fail_over_plain_http(tmp_path):
    tls = start_sandbox(tmp_path / "tls", validation="structural")
    plain = start_sandbox(tmp_path / "plain", validation="structural", tls=False)
    try:
        _, over_tls = conformance_run(tls.sut_file, tmp_path / "r-tls", "-k", TRANSPORT_CHECKS)
        _, over_plain = conformance_run(plain.sut_file, tmp_path / "r-plain", "-k", TRANSPORT_CHECKS)
    finally:
        tls.stop()
        plain.stop()
    assert verdicts(over_tls)["EHDS-SEC-001"] == "pass", check_verdicts(over_tls)
    assert verdicts(over_plain)["EHDS-SEC-001"] == "fail"
    assert check_verdicts(over_plain)["test_plain_http_gives_no_data"] == "fail"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
def test_a_server_accepting_tls_1_0_is_caught(tmp_path):
    """Serve the same app with a context that still allows TLS 1.0 (if this OpenSSL can)."""
    legacy = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        legacy.minimum_version = ssl.TLSVersion.TLSv1
        legacy.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as exc:
        pytest.fail(f"this OpenSSL cannot serve TLS 1.0 at all ({exc}); the check could not be shown to fail")
    cert, key = self_signed(tmp_path)
    legacy.load_cert_chain(cert, key)
    running = start_sandbox(tmp_path / "box", validation="structural")  # keys, accounts, SUT file, service
    running.server.stop()  # keep the service, serve it again below with the legacy TLS context
    app = running.server.server.config.app
    sock = runner.bind("127.0.0.1", 0)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ssl_certfile=cert, ssl_keyfile=key,
                            ssl_context_factory=lambda _c, _d: legacy)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    origin = runner.origin(sock, tls=True)
    app.state.gateway.config.public_url = origin
    text = running.sut_file.read_text().replace(running.server.url, origin)
    text = text.replace(str(running.box.keys) + "/localhost.cert.pem", cert)
    running.sut_file.write_text(text)
    try:
        _, report = conformance_run(running.sut_file, tmp_path / "r", "-k", TRANSPORT_CHECKS)
    finally:
        server.should_exit = True
        thread.join(10)
        running.service.close()
    checks = check_verdicts(report)
    assert checks["test_tls_before_1_2_is_refused"] == "fail", checks
    assert verdicts(report)["EHDS-SEC-001"] == "fail"
