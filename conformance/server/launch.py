"""Putting a served reference EHR together: accounts, authorization server, app, socket.

Shared by ``conformance serve-reference`` (foreground, uvicorn) and by tests and
benchmarks that want a real server on a loopback port inside their own process
(:func:`start_sandbox`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.adapters.reference.accounts import SANDBOX_USERS, provision_sandbox
from conformance.adapters.reference.service import ReferenceEHR
from conformance.server import runner, sandbox
from conformance.server.config import Accountable, AuthConfig, from_toml


def sandbox_passwords(config: Mapping[str, Any]) -> dict[str, str]:
    """Sandbox passwords from a SUT file's [actors.*] and [patients] (the harness logs in with them)."""
    out: dict[str, str] = {}
    for name, entry in (config.get("actors") or {}).items():
        if isinstance(entry, Mapping) and entry.get("password"):
            out[str(name)] = str(entry["password"])
    patients = config.get("patients") or {}
    if isinstance(patients, Mapping) and patients.get("password"):
        out["patient"] = str(patients["password"])
    return out


def prepare(service: ReferenceEHR, config: Mapping[str, Any], *, base: Path) -> AuthConfig:
    """Provision the sandbox accounts in `service` and build the authorization server's configuration."""
    accounts = provision_sandbox(service, sandbox_passwords(config))
    accountable = {name: Accountable(kind, ident, display, org)
                   for name, (kind, ident, display, org) in SANDBOX_USERS.items()}
    auth = from_toml(config, base=base, accountable=accountable)
    auth.patient_master = str(accounts.patient_credentials.get("password", ""))
    return auth


@dataclass
class Sandboxed:
    """A reference EHR served from a thread of this process, with its SUT file."""

    server: runner.RunningServer
    service: ReferenceEHR
    sut_file: Path
    box: sandbox.Sandbox

    @property
    def fhir_base(self) -> str:
        return self.server.fhir_base

    def stop(self) -> None:
        self.server.stop()
        self.service.close()


def start_sandbox(directory: str | Path, *, service_class: type[ReferenceEHR] = ReferenceEHR, tls: bool = True,
                  validation: str = "auto", host: str = "127.0.0.1", **auth_overrides: Any) -> Sandboxed:
    """Fresh keys (and certificate), a fresh database, a server on a free port, and a SUT file for the harness."""
    import tomllib

    from conformance.server.app import create_app

    folder = Path(directory)
    box = sandbox.create(folder, tls=tls)
    config = tomllib.loads(sandbox.sut_toml(box, base_url="(not yet known)", host=host))
    service = service_class(Path(tempfile.mkdtemp(prefix="ehr-", dir=folder)) / "ehr.sqlite", validation=validation)
    try:
        auth = prepare(service, config, base=folder)
        for key, value in auth_overrides.items():
            setattr(auth, key, value)
        sock = runner.bind(host, 0)
        auth.public_url = runner.origin(sock, tls=tls)
        product = None if service_class is ReferenceEHR else f"{service.product} ({service_class.__name__})"
        app = create_app(service, auth_config=auth, product=product)
        section = config["reference_server"]
        cert = str(folder / section["tls_cert"]) if tls else None
        key = str(folder / section["tls_key"]) if tls else None
        server = runner.start_in_thread(app, sock, tls_cert=cert, tls_key=key)
    except BaseException:
        service.close()
        raise
    sut_file = folder / "sut.toml"
    sut_file.write_text(sandbox.sut_toml(box, base_url=server.fhir_base, host=host, port=server.sock.getsockname()[1]),
                        encoding="utf-8")
    return Sandboxed(server, service, sut_file, box)
