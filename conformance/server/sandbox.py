"""Throw-away credentials for running the reference server: client key pairs, a self-signed
TLS certificate, and a SUT file that ties them together.

Used by the tests (fresh keys per run), and to (re)generate the test keys shipped in
``examples/keys/``::

    python -m conformance.server.sandbox examples   # writes examples/keys/* and prints the TOML

Everything written here is a TEST credential for a loopback sandbox and says so.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conformance.adapter import PRIORITY_CATEGORIES, Capability  # noqa: F401
from conformance.server.fhir import CAPABILITIES as _SERVED
from conformance.adapters.reference.accounts import SANDBOX_USERS
from conformance.jose import write_test_keypair

#: The two clients of the sandbox: an EHR app (people log in through it) and a log-review system.
APP_CLIENT, LOG_CLIENT, EXPORT_CLIENT = "ehr-app", "log-review", "data-export"
REDIRECT_URI = "http://127.0.0.1/callback"
OTHER_AUDIENCE = "https://other-ehr.invalid/fhir"
HP_SCOPE = ("openid fhirUser user/Patient.rs user/DocumentReference.rs user/Bundle.cr user/Binary.c "
            "user/Consent.cruds")  # a professional records (and withdraws) the consent the patient gave them
PATIENT_SCOPE = ("openid fhirUser patient/Patient.rs patient/DocumentReference.rs patient/Bundle.r "
                 "patient/AuditEvent.rs patient/Consent.cruds")
AUDITOR_SCOPE = "system/AuditEvent.rs system/Patient.rs"
#: the data holder's full export (Patient/$everything) needs its own client and scope (least privilege)
EXPORT_SCOPE = "system/Patient.r system/Bundle.r"
#: what the reference EHR offers (over HTTP the adapter adds "http")
CAPABILITIES = sorted(c.value for c in _SERVED)


def write_tls_certificate(directory: str | Path, name: str = "localhost",
                          hosts: tuple[str, ...] = ("127.0.0.1", "::1", "localhost"),
                          days: int = 3650) -> tuple[Path, Path]:
    """A self-signed certificate (EC P-256) for `hosts`; returns (cert.pem, key.pem)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} (ehds-conformance TEST certificate)")])
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}.cert.pem", folder / f"{name}.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Sandbox:
    """Where the files are, and the settings a SUT file needs."""

    directory: Path
    keys: str = "keys"  # key folder, relative to the SUT file
    tls: bool = True
    passwords: dict[str, str] = field(default_factory=dict)

    def keydir(self) -> Path:
        return self.directory / self.keys


def create(directory: str | Path, *, tls: bool = True, passwords: dict[str, str] | None = None,
           keys: str = "keys") -> Sandbox:
    """Fresh client keys (ES384 app, RS384 log review) and, with `tls`, a certificate under directory/keys."""
    box = Sandbox(Path(directory), keys=keys, tls=tls)
    box.passwords = dict(passwords or {name: "test-only-" + secrets.token_urlsafe(12)
                                       for name in ("hp", "hp_other", "patient")})
    write_test_keypair(box.keydir(), APP_CLIENT, "ES384")
    write_test_keypair(box.keydir(), LOG_CLIENT, "RS384")
    write_test_keypair(box.keydir(), EXPORT_CLIENT, "ES384")
    if tls:
        write_tls_certificate(box.keydir())
    return box


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def sut_toml(box: Sandbox, *, base_url: str, host: str = "127.0.0.1", port: int = 0, header: str = "") -> str:
    """The SUT file: the harness side ([sut], [tls], [auth], [clients], [actors], [patients]) and the
    server side ([reference_server], read only by ``conformance serve-reference --config``)."""
    k = box.keys
    lines = [header.rstrip() + "\n" if header else ""]
    lines += [
        "# ---- harness side: how `conformance run --adapter fhir` reaches the SUT ----",
        "[sut]",
        f"base_url = {_q(base_url)}",
        "# what the vendor declares (the information sheet); checks needing anything else are not-applicable",
        f"capabilities = [{', '.join(_q(c) for c in CAPABILITIES)}]",
        f"produces = [{', '.join(_q(c) for c in PRIORITY_CATEGORIES)}]",
        f"consumes = [{', '.join(_q(c) for c in PRIORITY_CATEGORIES)}]",
        "",
        "[limits]  # per HTTP request; total stays below --adapter-timeout (30 s by default)",
        "total = 20",
        "",
    ]
    if box.tls:
        lines += ["[tls]", f"ca = {_q(k + '/localhost.cert.pem')}  # trust this self-signed TEST certificate", ""]
    lines += [
        "[auth]",
        "# endpoints are discovered from [base]/.well-known/smart-configuration",
        "lifetime_parameter = \"expires_in\"  # the AS lets a client ask for a shorter token lifetime",
        f"other_audience = {_q(OTHER_AUDIENCE)}  # an audience the AS serves that is NOT this server",
        "",
        f"[clients.{APP_CLIENT}]",
        f"private_key = {_q(k + '/' + APP_CLIENT + '.private.jwk.json')}",
        f"redirect_uri = {_q(REDIRECT_URI)}",
        "",
        f"[clients.{LOG_CLIENT}]",
        f"private_key = {_q(k + '/' + LOG_CLIENT + '.private.jwk.json')}",
        "",
        f"[clients.{EXPORT_CLIENT}]",
        f"private_key = {_q(k + '/' + EXPORT_CLIENT + '.private.jwk.json')}",
        "",
    ]
    for name in ("hp", "hp_other"):
        kind, identifier, display, org = SANDBOX_USERS[name]
        assert org is not None
        lines += [
            f"[actors.{name}]",
            f"kind = {_q(kind.value)}",
            f"identifier = {_q(identifier)}",
            f"name = {_q(display)}",
            f"organisation = {{ identifier = {_q(org.identifier)}, name = {_q(org.name)} }}",
            "login = \"authorization_code\"  # OpenID Connect login of the person through the app",
            f"client = {_q(APP_CLIENT)}",
            f"password = {_q(box.passwords[name])}  # sandbox TEST password",
            f"scope = {_q(HP_SCOPE)}",
            "",
        ]
    kind, identifier, display, org = SANDBOX_USERS["auditor"]
    assert org is not None
    lines += [
        "[actors.auditor]",
        f"kind = {_q(kind.value)}",
        f"identifier = {_q(identifier)}",
        f"name = {_q(display)}",
        f"organisation = {{ identifier = {_q(org.identifier)}, name = {_q(org.name)} }}",
        "login = \"client_credentials\"  # SMART Backend Services: the log-review system acting for the DPO",
        f"client = {_q(LOG_CLIENT)}",
        f"scope = {_q(AUDITOR_SCOPE)}",
        "# the full export (Patient/$everything) uses its own client and scope, never the log-review token",
        f"export_client = {_q(EXPORT_CLIENT)}",
        f"export_scope = {_q(EXPORT_SCOPE)}",
        "",
        "[patients]  # any patient the EHR holds logs in with their identifier and their own sandbox password",
        "login = \"authorization_code\"",
        f"client = {_q(APP_CLIENT)}",
        "password_scheme = \"per-patient\"  # each patient's password: HMAC-SHA256(identifier) under the secret below",
        f"password = {_q(box.passwords['patient'])}  # sandbox TEST secret (never sent; no patient's password)",
        f"scope = {_q(PATIENT_SCOPE)}",
        "",
        "# ---- server side: read only by `conformance serve-reference --config THIS_FILE` ----",
        "[reference_server]",
        f"host = {_q(host)}",
        f"port = {port}",
    ]
    if box.tls:
        lines += [f"tls_cert = {_q(k + '/localhost.cert.pem')}", f"tls_key = {_q(k + '/localhost.key.pem')}"]
    lines += [
        f"other_audiences = [{_q(OTHER_AUDIENCE)}]",
        "",
        f"[reference_server.clients.{APP_CLIENT}]",
        f"public_key = {_q(k + '/' + APP_CLIENT + '.public.jwk.json')}",
        "grant_types = [\"authorization_code\"]",
        f"redirect_uris = [{_q(REDIRECT_URI)}]",
        "scopes = [\"openid\", \"fhirUser\", \"user/*.cruds\", \"patient/*.cruds\"]",
        "",
        f"[reference_server.clients.{LOG_CLIENT}]",
        f"public_key = {_q(k + '/' + LOG_CLIENT + '.public.jwk.json')}",
        "grant_types = [\"client_credentials\"]",
        "acts_as = \"auditor\"",
        "scopes = [\"system/AuditEvent.rs\", \"system/Patient.rs\"]",
        "",
        f"[reference_server.clients.{EXPORT_CLIENT}]",
        f"public_key = {_q(k + '/' + EXPORT_CLIENT + '.public.jwk.json')}",
        "grant_types = [\"client_credentials\"]",
        "acts_as = \"auditor\"  # the data holder",
        f"scopes = [{', '.join(_q(s) for s in EXPORT_SCOPE.split())}]",
        "",
    ]
    return "\n".join(lines)


EXAMPLE_HEADER = """\
# SUT file of the reference EHR served over HTTPS (the two-shell demo):
#
#   shell 1:  conformance serve-reference --config examples/reference-sut.toml
#   shell 2:  conformance run --adapter fhir --adapter-config examples/reference-sut.toml
#
# The same file configures both sides: the harness reads [sut] .. [patients], the server reads
# [reference_server] (and the sandbox passwords of [actors] / [patients], so both agree).
# Paths are relative to this file. Everything under keys/ is a TEST credential for a loopback
# sandbox (regenerate with `python -m conformance.server.sandbox examples`); the passwords below
# are sandbox passwords. Never reuse any of it for real data.
"""
EXAMPLE_PASSWORDS = {"hp": "test-only-alice-password", "hp_other": "test-only-bruno-password",
                     "patient": "test-only-patient-password"}


def write_example(folder: str | Path, *, new_keys: bool = True) -> Path:
    """FOLDER/reference-sut.toml (port 8443, TLS) and, with `new_keys`, fresh keys in FOLDER/keys."""
    box = (create(folder, passwords=EXAMPLE_PASSWORDS) if new_keys
           else Sandbox(Path(folder), passwords=dict(EXAMPLE_PASSWORDS)))
    target = Path(folder) / "reference-sut.toml"
    target.write_text(sut_toml(box, base_url="https://127.0.0.1:8443/fhir", port=8443, header=EXAMPLE_HEADER),
                      encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Regenerate the test keys and the SUT file of a folder (e.g. ``examples``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (1, 2) or (len(args) == 2 and args[1] != "--keep-keys"):
        print("usage: python -m conformance.server.sandbox FOLDER [--keep-keys]", file=sys.stderr)
        return 2
    print(write_example(args[0], new_keys=len(args) == 1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
