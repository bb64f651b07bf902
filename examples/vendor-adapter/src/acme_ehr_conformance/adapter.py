"""ACME EHR's adapter: the harness's contract mapped onto ACME's SDK.

Copy this file to start your own. The harness only ever calls what is here:

- ``create(config)``            builds the adapter (registered as entry point ``acme``);
- ``AcmeAdapter.describe()``    what the product is and offers (capabilities decide
                                which checks apply; the rest become ``not-applicable``);
- ``AcmeAdapter.test_accounts()`` the sandbox identities the checks log in as;
- ``AcmeAdapter.login(actor)``  a session, or ``Denied``;
- the six ``AcmeSession`` methods, each one call into your system;
- ``AcmeAdapter.close()``.

Rules of the contract (conformance/adapter.py):

- Answer with the contract's exceptions: ``Denied`` (authentication/authorisation),
  ``Rejected`` (invalid input; your system must have stored nothing), ``NotFound``,
  ``NotSupported``. Here :func:`contract_answers` translates ACME's SDK errors.
- Anything else you raise, or a call that hangs, gives that check an *error* verdict
  (it never counts as a pass). Do not catch broad exceptions to hide them.
- Restricted data is *absent* for health professionals: answer ``NotFound``, never
  ``Denied``, for a restricted document, and do not mention the restriction.
- ``access_log`` returns FHIR R4 AuditEvents (IHE BALP shape) with the Annex II 3.2
  content; see the "reference EHR" section of the harness README for the fields.
- Credentials live in ``Actor.credentials`` (never printed in reports). Read real
  secrets from the environment, not from files in your repository.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from acme_ehr_conformance.backend import AcmeClient, AuthError, Forbidden, NoSuchRecord, ValidationFailed
from conformance.adapter import (
    PRIORITY_CATEGORIES,
    Actor,
    ActorKind,
    Capability,
    Denied,
    DocumentInfo,
    NotFound,
    Organisation,
    Receipt,
    Rejected,
    Restriction,
    SutDescription,
    TestAccounts,
)
from conformance.errors import UsageError

VERSION = "4.2.0"

#: The sandbox users: account name -> (ACME role, identifier system|value, display name, organisation).
#: 2.999 is the OID arc reserved for examples; use your real identifier systems.
SANDBOX_USERS: dict[str, tuple[str, str, str, Organisation | None]] = {
    "hp": ("clinician", "urn:oid:2.999.42.1|hp-0001", "Dr Ada Varga",
           Organisation("urn:oid:2.999.42.2|acme-north", "ACME North Clinic")),
    "hp_other": ("clinician", "urn:oid:2.999.42.1|hp-0002", "Dr Jonas Berg",
                 Organisation("urn:oid:2.999.42.2|acme-south", "ACME South Hospital")),
    "auditor": ("auditor", "urn:oid:2.999.42.1|dpo-01", "ACME Privacy Office", None),
}
_ROLE = {ActorKind.HEALTH_PROFESSIONAL: "clinician", ActorKind.PATIENT: "patient", ActorKind.AUDITOR: "auditor"}


@contextmanager
def contract_answers() -> Iterator[None]:
    """Translate ACME's SDK errors into the contract's answers (everything else passes through)."""
    try:
        yield
    except (AuthError, Forbidden) as exc:
        raise Denied(str(exc)) from None
    except NoSuchRecord as exc:
        raise NotFound(str(exc)) from None
    except ValidationFailed as exc:
        raise Rejected(str(exc), details={"issues": exc.issues}) from None


class AcmeSession:
    """One logged-in actor: each method is one SDK call."""

    def __init__(self, client: AcmeClient, actor: Actor, token: str) -> None:
        self.actor = actor
        self._client = client
        self._token = token

    def submit(self, document: Mapping[str, Any] | bytes) -> Receipt:
        if isinstance(document, (bytes, bytearray)):
            payload, content_type = bytes(document), "application/hl7-cda+xml"
        else:
            payload, content_type = json.dumps(document).encode("utf-8"), "application/fhir+json"
        with contract_answers():
            answer = self._client.upload(self._token, payload, content_type)
        return Receipt(document_id=answer["documentId"], patient_id=answer["patientId"])

    def find_patient(self, identifier: str) -> str:
        system, _, value = identifier.partition("|")
        with contract_answers():
            return self._client.find_patient(self._token, system, value)

    def list_documents(self, patient_id: str, category: str | None = None) -> list[DocumentInfo]:
        with contract_answers():
            rows = self._client.documents(self._token, patient_id, category)
        return [DocumentInfo(document_id=r["id"], patient_id=r["patient"], category=r["category"],
                             title=r.get("title", ""), date=r.get("date", ""),
                             custodian=r.get("custodian")) for r in rows]

    def fetch(self, patient_id: str, category: str, *, document_id: str | None = None,
              emergency_purpose: str | None = None) -> dict[str, Any]:
        with contract_answers():
            payload = self._client.export(self._token, patient_id, category, document_id, emergency_purpose)
        return json.loads(payload)

    def access_log(self, patient_id: str) -> list[dict[str, Any]]:
        with contract_answers():
            return self._client.audit_trail(self._token, patient_id)

    def restrict(self, patient_id: str, restriction: Restriction) -> None:
        with contract_answers():
            self._client.set_privacy(self._token, patient_id, sorted(restriction.document_ids),
                                     sorted(restriction.categories))


class AcmeAdapter:
    """The harness's entry into ACME EHR."""

    def __init__(self, client: AcmeClient, accounts: TestAccounts, owned_dir: Path | None = None) -> None:
        self._client = client
        self._accounts = accounts
        self._owned_dir = owned_dir

    def describe(self) -> SutDescription:
        return SutDescription(
            product="ACME EHR",
            version=VERSION,
            vendor="ACME Health Systems",
            # Declare only what your product really offers: each capability switches checks on.
            capabilities=frozenset({
                Capability.FHIR, Capability.CDA, Capability.SUBMIT, Capability.EXPORT, Capability.ACCESS_LOG,
                Capability.RESTRICTION, Capability.EMERGENCY_ACCESS, Capability.PATIENT_ACCESS,
            }),
            produces=frozenset(PRIORITY_CATEGORIES),
            consumes=frozenset(PRIORITY_CATEGORIES),
        )

    def test_accounts(self) -> TestAccounts:
        return self._accounts

    def login(self, actor: Actor) -> AcmeSession:
        role = _ROLE.get(actor.kind)
        password = str(actor.credentials.get("password", ""))
        if role is None or not actor.identifier or not password:
            raise Denied("ACME EHR requires a signed-in user")
        with contract_answers():
            token = self._client.sign_in(role, actor.identifier, password)
        return AcmeSession(self._client, actor, token)

    def close(self) -> None:
        self._client.close()
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None


def _password(name: str) -> str:
    """A sandbox password from the environment (ACME_HP_PASSWORD, ...), random when unset."""
    return os.environ.get(f"ACME_{name.upper()}_PASSWORD") or secrets.token_urlsafe(16)


def create(config: Mapping[str, Any] | None = None) -> AcmeAdapter:
    """Build the adapter. Configuration (``--adapter-config acme.toml``), all optional:

    ``database``: path of the sandbox database (default: a temporary one, removed on close).
    """
    config = dict(config or {})
    unknown = sorted(set(config) - {"database"})
    if unknown:
        raise UsageError(f"acme adapter: unknown configuration keys {unknown}; known: database")
    owned = None
    if config.get("database"):
        database = Path(str(config["database"])).expanduser()
    else:
        owned = Path(tempfile.mkdtemp(prefix="acme-sandbox-"))
        database = owned / "acme.sqlite"
    client = AcmeClient(database)
    # Sandbox provisioning. Against a real sandbox the users already exist and this
    # block only reads their passwords from the environment.
    actors: dict[str, Actor] = {}
    for name, (role, identifier, display, org) in SANDBOX_USERS.items():
        password = _password(name)
        kind = next(k for k, r in _ROLE.items() if r == role)
        client.system.provision_user(kind, identifier, display, org, password)
        actors[name] = Actor(kind, identifier=identifier, name=display, organisation=org,
                             credentials={"password": password})
    patient_password = _password("patient")
    client.system.set_patient_password(patient_password)
    accounts = TestAccounts(hp=actors["hp"], hp_other=actors["hp_other"], auditor=actors["auditor"],
                            patient_credentials={"password": patient_password})
    return AcmeAdapter(client, accounts, owned)
