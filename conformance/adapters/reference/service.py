"""The reference EHR: every rule of the embedded system under test, in one class.

:class:`ReferenceEHR` is the EHR *logic* over a SQLite :class:`~.store.Store`:
authentication of actors, access control, the patient's restriction (Art 8),
emergency access with a stated purpose (Art 11(5)), the access log as FHIR
AuditEvents with the Annex II 3.2 content (IHE BALP shape), and validation of
what it receives (invalid input is rejected and nothing is stored).

Two callers use it, which is why it knows nothing about either of them:

- the in-process adapter (:mod:`.adapter`) that the harness drives by default;
- the HTTP FHIR server (:mod:`conformance.server`), which maps REST calls and bearer
  tokens onto the same methods.

Every operation takes the authenticated :class:`Principal` first. Answers are the
contract's exceptions (:class:`~conformance.adapter.Denied`, ``Rejected``,
``NotFound``); anything else raised is a bug.

Each rule is a small overridable method (``authenticate``, ``is_permitted``,
``check_emergency_purpose``, ``withholds``, ``visible_documents``,
``validate_document``, ``export_document``, ``exportable_documents``, ``build_audit_event``,
``log_access``)
so that a deliberately broken EHR (``tests/mutants/``) differs from this one in
exactly one method, and a vendor copying this file sees each rule on its own.

Quick use::

    ehr = ReferenceEHR("/tmp/ehr.sqlite")
    ehr.provision_user(ActorKind.HEALTH_PROFESSIONAL, "urn:example:hp|alice", "Alice",
                       Organisation("urn:example:org|north", "North Hospital"), "s3cret")
    alice = ehr.authenticate(ActorKind.HEALTH_PROFESSIONAL, "urn:example:hp|alice", {"password": "s3cret"})
    receipt = ehr.submit(alice, bundle)
    ps = ehr.fetch(alice, receipt.patient_id, "patient-summary")
"""

from __future__ import annotations

import contextvars
import copy
import datetime as dt
import functools
import hashlib
import hmac
import json
import secrets
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.adapter import (
    PRIORITY_CATEGORIES,
    ActorKind,
    Denied,
    DocumentInfo,
    NotFound,
    Organisation,
    Receipt,
    Rejected,
    Restriction,
    latest,
)
from conformance.adapters.reference import intake
from conformance.adapters.reference.consent import ConsentRules
from conformance.adapters.reference.display import TranslatedDisplay
from conformance.adapters.reference.psc import ProSanteConnectLogin
from conformance.adapters.reference.traits import TraitLookup
from conformance.adapters.reference.store import DocumentRow, PatientRow, Store
from conformance.issues import ValidationIssue

from conformance.adapters.reference.audit import (  # noqa: E402,F401  (re-exported for mutants and the server)
    ACT_REASON,
    BALP,
    CATEGORY_DETAIL,
    DCM,
    MINOR_FAILURE,
    ORIGIN_DETAIL,
    PRODUCT,
    ROLE_CLASS,
    SUCCESS,
    AuditEventBuilder,
    _ident,
    _instant,
    _split,
)

#: Operations access control knows about (see :meth:`ReferenceEHR.is_permitted`).
ACTIONS = ("submit", "find-patient", "list", "fetch", "read-log", "restrict", "export-all", "consent")

#: How long access-log records stay retrievable (EHDS-LOG-010 asks for at least three years); the
#: adapter configuration key ``log_retention_days`` changes it.
DEFAULT_LOG_RETENTION_DAYS = 10 * 366

#: Validation answers remembered per validator (by content hash), oldest dropped first: the instances of one
#: process share the process-wide validator, so they share its answers (a run re-sends the documents of the
#: previous run with the same --patient-namespace; shrinking re-sends the same document again and again).
VALIDATION_MEMO_SIZE = 4096
_memo_lock = threading.Lock()
_memo: "weakref.WeakKeyDictionary[Any, OrderedDict[bytes, tuple[ValidationIssue, ...]]]" = weakref.WeakKeyDictionary()


def _remembered(validator: Any, bundle: dict[str, Any]) -> tuple[ValidationIssue, ...]:
    """``validator``'s issues for ``bundle``: computed once per content (the validator is deterministic)."""
    key = hashlib.sha256(json.dumps(bundle, sort_keys=True, separators=(",", ":"), default=str)
                         .encode("utf-8")).digest()
    with _memo_lock:
        answers = _memo.setdefault(validator, OrderedDict())
        known = answers.get(key)
    if known is None:
        known = tuple(_issues_of(validator.validate(bundle)))
        with _memo_lock:
            answers[key] = known
            while len(answers) > VALIDATION_MEMO_SIZE:
                answers.popitem(last=False)
    return known

PBKDF2_ITERATIONS = 20_000  # sandbox accounts; a production EHR would use far more or an IdP


@dataclass(frozen=True)
class Principal:
    """An authenticated user, as the EHR knows them (from its own account records).

    ``identifier`` is ``system|value``; ``patient_id`` is set for patients (their record).
    Created by :meth:`ReferenceEHR.authenticate` or :meth:`ReferenceEHR.principal_for_token`.
    """

    kind: ActorKind
    identifier: str
    name: str = ""
    organisation: Organisation | None = None
    patient_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "identifier": self.identifier, "name": self.name}
        if self.organisation:
            out["organisation"] = {"identifier": self.organisation.identifier, "name": self.organisation.name}
        if self.patient_id:
            out["patient_id"] = self.patient_id
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Principal:
        org = data.get("organisation")
        return cls(ActorKind(data["kind"]), data["identifier"], data.get("name", ""),
                   Organisation(org["identifier"], org["name"]) if org else None, data.get("patient_id"))


@dataclass(frozen=True)
class RequestContext:
    """How a request reached the EHR: the network side of the log entry (BALP client/server agents).

    The in-process adapter uses the defaults; the HTTP server wraps each request in
    :func:`request_context` with the caller's address and its X-Request-Id.
    """

    client_address: str = "localhost"
    client_name: str = "in-process adapter"
    server_address: str = "localhost"
    request_id: str = ""


_DEFAULT_REQUEST = RequestContext()
_REQUEST: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("reference_ehr_request",
                                                                                 default=None)


@contextmanager
def request_context(**fields: str) -> Iterator[RequestContext]:
    """Within the block, log entries carry this request's client, server and request id."""
    ctx = RequestContext(**fields)
    token = _REQUEST.set(ctx)
    try:
        yield ctx
    finally:
        _REQUEST.reset(token)


def current_request() -> RequestContext:
    """The request being served (the in-process defaults outside :func:`request_context`)."""
    return _REQUEST.get() or _DEFAULT_REQUEST


@dataclass(frozen=True)
class AccessEvent:
    """One thing that happened to a patient's data, before it becomes an AuditEvent.

    action: ``create`` (submit), ``read`` (fetch), ``search`` (listing), ``read-log``,
    ``restrict``, ``find-patient`` (refused attempts only) or ``login`` (failed logins).
    """

    action: str
    principal: Principal | None
    patient: PatientRow | None = None
    documents: tuple[DocumentRow, ...] = ()
    categories: tuple[str, ...] = ()  # what was asked for (a listing by category, a refused fetch)
    outcome: str = SUCCESS
    outcome_desc: str = ""
    emergency_purpose: str | None = None  # None: no emergency access; str: the stated purpose
    query: str = ""
    consent_id: str = ""  # the consent under which the access happened (national consent rules)
    purpose: str = ""  # the purpose of an access subject to consent (e.g. cross-border-care)
    recorded: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    request: RequestContext = field(default_factory=current_request)


def _now() -> dt.datetime:
    """Aware local time: AuditEvent.recorded carries the offset (Annex II 3.2(d))."""
    return dt.datetime.now().astimezone()


@functools.lru_cache(maxsize=256)
def _hash_password(password: str, salt: bytes) -> bytes:
    """PBKDF2 of a sandbox password. Memoised in memory for the life of the process: a certification
    run logs the same few sandbox accounts in hundreds of times (every step of a state machine), and
    the key derivation was a fifth of a run. Nothing is written anywhere; the stored hashes stay PBKDF2."""
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, PBKDF2_ITERATIONS)


class ReferenceEHR(AuditEventBuilder, ConsentRules, TranslatedDisplay, TraitLookup, ProSanteConnectLogin):
    """The reference EHR over a SQLite file.

    Parameters:
        db_path: the SQLite file (created with its schema if missing; reused if present).
        clock: returns the current time as an aware datetime (tests pin it).
        validation: ``"auto"`` adds full FHIR/CDA validation (``conformance.fhir`` /
            ``conformance.cda``) to the structural checks when those modules are installed;
            ``"structural"`` uses the built-in structural checks only.
        token_ttl: lifetime in seconds of tokens from :meth:`issue_token`.
    """

    product = PRODUCT

    def __init__(self, db_path: str | Path, *, clock: Callable[[], dt.datetime] | None = None,
                 validation: str = "auto", token_ttl: int = 3600) -> None:
        if validation not in ("auto", "structural"):
            raise ValueError(f"validation must be 'auto' or 'structural', not {validation!r}")
        self.store = Store(db_path)
        base_clock = clock or _now
        self.clock_offset = dt.timedelta(0)
        self.clock: Callable[[], dt.datetime] = lambda: base_clock() + self.clock_offset
        self.log_retention_days = DEFAULT_LOG_RETENTION_DAYS
        self.validation = validation
        self.token_ttl = token_ttl
        self._fhir_validator: Any = None
        self._fhir_validator_loaded = False

    def close(self) -> None:
        """Close the database. The file stays (the caller owns its directory)."""
        self.store.close()

    # =================================================================================
    # Accounts and authentication (Annex II 3.1)
    # =================================================================================

    def provision_user(self, kind: ActorKind, identifier: str, name: str, organisation: Organisation | None,
                       password: str) -> None:
        """Create or replace a health professional or auditor account (password stored salted + hashed)."""
        if kind not in (ActorKind.HEALTH_PROFESSIONAL, ActorKind.AUDITOR):
            raise ValueError(f"accounts are for health professionals and auditors, not {kind.value}; "
                             "patients log in with set_patient_password()")
        if kind is ActorKind.HEALTH_PROFESSIONAL and organisation is None:
            raise ValueError("a health professional account needs the organisation they work for")
        salt = secrets.token_bytes(16)
        with self.store.transaction() as tx:
            tx.upsert_user(identifier=identifier, kind=kind.value, name=name,
                           org_identifier=organisation.identifier if organisation else "",
                           org_name=organisation.name if organisation else "", salt=salt,
                           password_hash=_hash_password(password, salt))

    def set_patient_password(self, password: str) -> None:
        """The sandbox's patient credential: any known patient logs in with it (stands in for an eID)."""
        salt = secrets.token_bytes(16)
        with self.store.transaction() as tx:
            tx.set_secret("patient-password", salt, _hash_password(password, salt))

    def authenticate(self, kind: ActorKind, identifier: str, credentials: Mapping[str, str]) -> Principal:
        """Check an actor's credentials and return who they are; Denied otherwise.

        Health professionals and auditors: their account identifier and ``password``.
        Patients: a business identifier the EHR holds and the sandbox patient password.
        Anonymous users are always refused. Failed attempts are logged (outcome 4).
        Health professionals may instead present an OpenID Connect ID token and access token of the
        trusted provider (``oidc_id_token``, ``oidc_access_token``: Pro Sante Connect, see :mod:`.psc`).
        """
        if credentials and credentials.get("oidc_id_token"):
            return self.authenticate_oidc(kind, credentials)
        password = str(credentials.get("password", "")) if credentials else ""
        if kind is ActorKind.ANONYMOUS or not identifier or not password:
            self._log_failed_login(kind, identifier, "no credentials")
            raise Denied("authentication required: log in with an identifier and password")
        if kind is ActorKind.PATIENT:
            secret = self.store.secret("patient-password")
            system, value = _split(identifier)
            patient_id = self.store.patient_id_for(system, value)
            ok = secret is not None and patient_id is not None and hmac.compare_digest(
                _hash_password(password, secret["salt"]), secret["password_hash"])
            if not ok:
                self._log_failed_login(kind, identifier, "unknown patient or wrong password")
                raise Denied("login refused: unknown patient or wrong password")
            patient = self.store.patient(patient_id)  # type: ignore[arg-type]
            return Principal(kind, identifier, patient.display if patient else "", None, patient_id)
        user = self.store.user(identifier)
        ok = user is not None and user["kind"] == kind.value and hmac.compare_digest(
            _hash_password(password, user["salt"]), user["password_hash"])
        if not ok:
            self._log_failed_login(kind, identifier, "unknown user or wrong password")
            raise Denied("login refused: unknown user or wrong password")
        assert user is not None
        org = Organisation(user["org_identifier"], user["org_name"]) if user["org_identifier"] else None
        return Principal(kind, identifier, user["name"], org)

    def issue_token(self, principal: Principal, ttl: int | None = None) -> str:
        """An opaque bearer token for `principal` (only its sha256 is stored)."""
        token = secrets.token_urlsafe(32)
        expires = self.clock() + dt.timedelta(seconds=ttl if ttl is not None else self.token_ttl)
        with self.store.transaction() as tx:
            tx.insert_token(hashlib.sha256(token.encode()).hexdigest(), principal.to_json(), _instant(expires))
        return token

    def principal_for_token(self, token: str) -> Principal:
        """Who a bearer token belongs to; Denied when unknown or expired."""
        row = self.store.token(hashlib.sha256(token.encode()).hexdigest()) if token else None
        if row is None:
            raise Denied("invalid token")
        if dt.datetime.fromisoformat(row["expires"]) <= self.clock():
            raise Denied("token expired")
        return Principal.from_json(json.loads(row["principal"]))

    def _log_failed_login(self, kind: ActorKind, identifier: str, why: str) -> None:
        who = Principal(kind, identifier) if identifier else None
        self.log_access(AccessEvent("login", who, outcome=MINOR_FAILURE, outcome_desc=f"login refused: {why}",
                                    recorded=self.clock()))

    # =================================================================================
    # Access rules
    # =================================================================================

    def is_permitted(self, principal: Principal, action: str, patient_id: str | None) -> bool:
        """May `principal` do `action` on this patient's record?

        Health professionals: submit, find patients, list and fetch (their own
        organisation's or others': EHDS is about sharing). Patients: everything on
        their own record except submitting, including reading their access log (Art 9)
        and restricting access (Art 8). Auditors: find patients and read any access log;
        the auditor account also stands for the data holder in the complete export for
        system replacement (``export-all``, EHDS-INT-011): not a care access, so no
        health professional or patient may do it.
        """
        kind = principal.kind
        if kind is ActorKind.HEALTH_PROFESSIONAL:  # "consent": records the consent the patient gave them
            return action in ("submit", "find-patient", "list", "fetch", "consent")
        if kind is ActorKind.PATIENT:
            return action in ("find-patient", "list", "fetch", "read-log", "restrict", "consent") and \
                patient_id is not None and patient_id == principal.patient_id
        if kind is ActorKind.AUDITOR:
            return action in ("find-patient", "read-log", "export-all")
        return False

    def authorize(self, principal: Principal, action: str, patient: PatientRow | None,
                  categories: tuple[str, ...] = ()) -> None:
        """Raise Denied (and log the refused attempt) unless :meth:`is_permitted`."""
        if self.is_permitted(principal, action, patient.id if patient else None):
            return
        if patient is not None:
            self.log_access(AccessEvent(action, principal, patient, categories=categories, outcome=MINOR_FAILURE,
                                        outcome_desc=f"{action} refused for {principal.kind.value}",
                                        recorded=self.clock()))
        raise Denied(f"a {principal.kind.value} may not {action.replace('-', ' ')} here")

    def check_emergency_purpose(self, principal: Principal, purpose: str) -> str:
        """Art 11(5): emergency access needs a stated purpose and a health professional.

        Returns the cleaned purpose; Denied when it is blank or the actor is not a
        health professional.
        """
        if principal.kind is not ActorKind.HEALTH_PROFESSIONAL:
            raise Denied("emergency access is for health professionals")
        cleaned = " ".join(purpose.split())
        if not cleaned:
            raise Denied("emergency access needs a stated purpose (Art 11(5)); give the vital-interest reason")
        return cleaned

    def withholds(self, principal: Principal, document: DocumentRow, restriction: Restriction, *,
                  emergency: bool) -> bool:
        """Whether `document` is left out for `principal` because of the patient's restriction (Art 8).

        Restrictions bind health professionals; emergency access with a purpose
        overrides them (Art 11(5)); the patient always sees their own record.
        """
        if principal.kind is not ActorKind.HEALTH_PROFESSIONAL or emergency:
            return False
        return document.id in restriction.document_ids or document.category in restriction.categories

    def visible_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                          emergency: bool = False) -> list[DocumentRow]:
        """The patient's documents `principal` may see, oldest first.

        Withheld documents are simply absent: no marker, no count, nothing that hints
        at a restriction (Art 8, Recital 17).
        """
        row = self.store.restriction(patient_id)
        restriction = Restriction(row.document_ids, row.categories)
        return [d for d in self.store.documents(patient_id, category)
                if not self.withholds(principal, d, restriction, emergency=emergency)]

    def latest_document(self, documents: list[DocumentRow]) -> DocumentRow | None:
        """The latest of `documents` (oldest first, as filed): the newest document date, the later filed on a
        tie (the contract's one definition, :func:`conformance.adapter.latest`)."""
        return latest(documents, lambda d: d.date)

    # =================================================================================
    # Input (Annex II 2.2): validation and filing
    # =================================================================================

    def validate_document(self, document: Mapping[str, Any] | bytes) -> list[ValidationIssue]:
        """Everything wrong with an incoming document (empty list: acceptable).

        Structural checks always run (the EHR needs a patient, a category and an
        origin to file a document); full FHIR profile or CDA schema/Schematron
        validation is added when available and `validation` is ``"auto"``.
        """
        if isinstance(document, (bytes, bytearray)):
            data = bytes(document)
            if data.lstrip()[:1] in (b"{", b"["):
                try:
                    return self.validate_document(json.loads(data))
                except ValueError as exc:
                    return [ValidationIssue("error", "invalid", "", f"not valid JSON: {exc}", "json",
                                            intake.SOURCE)]
            issues = intake.cda_structural_issues(data)
            if not issues:
                issues += self._cda_validation(data)
            return issues
        if not isinstance(document, Mapping):
            return [ValidationIssue("error", "invalid", "", f"expected a FHIR document Bundle (JSON object) or CDA "
                                    f"XML bytes, got {type(document).__name__}", "input-type", intake.SOURCE)]
        bundle = dict(document)
        issues = intake.structural_issues(bundle)
        if not any(i.is_error for i in issues):
            issues += self._fhir_validation(bundle)
        return issues

    def _fhir_validation(self, bundle: dict[str, Any]) -> list[ValidationIssue]:
        if self.validation != "auto":
            return []
        if not self._fhir_validator_loaded:
            self._fhir_validator_loaded = True
            try:
                from conformance.fhir import default_validator  # type: ignore[attr-defined]
            except ImportError:
                self._fhir_validator = None
            else:
                self._fhir_validator = default_validator()
        if self._fhir_validator is None:
            return []
        return list(_remembered(self._fhir_validator, bundle))

    def _cda_validation(self, data: bytes) -> list[ValidationIssue]:
        if self.validation != "auto":
            return []
        try:
            from conformance.cda import validate_document  # type: ignore[attr-defined]
        except ImportError:
            return []
        return _issues_of(validate_document(data))

    def parse_document(self, document: Mapping[str, Any] | bytes) -> intake.Incoming:
        """The facts the EHR files about a document (lenient; call after validation)."""
        if isinstance(document, (bytes, bytearray)):
            data = bytes(document)
            if data.lstrip()[:1] == b"{":
                return intake.read_fhir(json.loads(data))
            return intake.read_cda(data)
        return intake.read_fhir(dict(document))

    def persist(self, incoming: intake.Incoming, *, fallback_origin: Organisation | None = None) -> Receipt:
        """File a document in ONE transaction: the patient (created or matched) and the document."""
        now = _instant(self.clock())
        origin_identifier, origin_name = incoming.origin_identifier, incoming.origin_name
        if not origin_identifier and fallback_origin is not None:
            origin_identifier, origin_name = fallback_origin.identifier, fallback_origin.name
        document_id = "doc-" + uuid.uuid4().hex[:20]
        with self.store.transaction() as tx:
            patient_id = next((pid for s, v in incoming.patient_identifiers
                               if (pid := self.store.patient_id_for(s, v))), None)
            if patient_id is None:
                patient_id = "pat-" + uuid.uuid4().hex[:20]
                tx.insert_patient(patient_id, incoming.patient_identifiers, incoming.family, incoming.given,
                                  incoming.birth_date, incoming.patient_resource, now)
            else:
                tx.add_identifiers(patient_id, incoming.patient_identifiers)
            tx.insert_document(document_id=document_id, patient_id=patient_id, category=incoming.category,
                               fmt=incoming.format, title=incoming.title, date=incoming.date,
                               origin_identifier=origin_identifier, origin_name=origin_name,
                               content=incoming.content, stored=now)
        return Receipt(document_id=document_id, patient_id=patient_id)

    # =================================================================================
    # Output (Annex II 2.1)
    # =================================================================================

    def export_document(self, document: DocumentRow) -> dict[str, Any]:
        """A stored document as a FHIR document Bundle: FHIR exactly as received, CDA wrapped unchanged."""
        if document.format == "fhir":
            return document.fhir()
        patient = self.store.patient(document.patient_id)
        return intake.cda_as_bundle(
            document.content, document_id=document.id, patient=patient.resource if patient else {},
            category=document.category, title=document.title, date=document.date,
            origin_identifier=document.origin_identifier, origin_name=document.origin_name,
            timestamp=document.stored)

    def exportable_documents(self, patient_id: str) -> list[DocumentRow]:
        """Everything held for the patient, oldest first, for the complete export (EHDS-INT-011).

        No restriction applies: a restriction (Art 8) binds health professionals' access, while
        this export moves the whole record to the system that replaces this one.
        """
        return self.store.documents(patient_id)

    # =================================================================================
    # Operations (one per contract method; each: authorize -> act -> log)
    # =================================================================================

    def _patient(self, patient_id: str) -> PatientRow:
        patient = self.store.patient(patient_id) if patient_id else None
        if patient is None:
            raise NotFound(f"no patient with id {patient_id!r}; look it up with find_patient(identifier)")
        return patient

    def _known_category(self, category: str | None) -> None:
        if category is not None and category not in PRIORITY_CATEGORIES:
            raise Rejected(f"unknown category {category!r}; use one of {', '.join(PRIORITY_CATEGORIES)}")

    def submit(self, principal: Principal, document: Mapping[str, Any] | bytes) -> Receipt:
        """Accept a FHIR document Bundle (mapping) or a CDA document (bytes).

        Invalid input raises Rejected with the issues (location + fix hint) in the
        reason and in ``details["issues"]``, and nothing is stored.
        """
        self.authorize(principal, "submit", None)
        issues = self.validate_document(document)
        errors = [i for i in issues if i.is_error]
        if errors:
            shown = "; ".join(f"{i.location or '(document)'}: {i.message}" for i in errors[:5])
            more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
            raise Rejected(f"invalid document, nothing stored: {shown}{more}",
                           details={"issues": [i.to_json() for i in errors]})
        incoming = self.parse_document(document)
        receipt = self.persist(incoming, fallback_origin=principal.organisation)
        stored = self.store.document(receipt.document_id)
        self.log_access(AccessEvent("create", principal, self.store.patient(receipt.patient_id),
                                    documents=(stored,) if stored else (), recorded=self.clock()))
        return receipt

    def find_patient(self, principal: Principal, identifier: str) -> str:
        """The EHR's patient id for a business identifier (system|value); NotFound if none.

        Patients can only look themselves up. A demographic lookup reads no
        priority-category data, so it is not written to the access log.
        """
        system, value = _split(identifier)
        patient_id = self.store.patient_id_for(system, value) if value else None
        if not self.is_permitted(principal, "find-patient", patient_id):
            raise Denied(f"a {principal.kind.value} may not look up this patient")
        if patient_id is None:
            raise NotFound(f"no patient with identifier {identifier!r}")
        return patient_id

    def read_patient(self, principal: Principal, patient_id: str) -> dict[str, Any]:
        """The Patient resource as received with the EHR's id (same access rule as find_patient)."""
        patient = self._patient(patient_id)
        if not self.is_permitted(principal, "find-patient", patient.id):
            raise Denied(f"a {principal.kind.value} may not read this patient")
        return {**copy.deepcopy(patient.resource), "resourceType": "Patient", "id": patient.id}

    def list_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                       emergency_purpose: str | None = None) -> list[DocumentInfo]:
        """Document metadata the principal may see (restricted ones are silently absent); logged.

        Each entry names its subject, its date and its custodian (the organisation the document
        came from, as filed: its custodian, else an author's organisation, else the submitter's)."""
        docs = self.list_document_rows(principal, patient_id, category, emergency_purpose=emergency_purpose)
        return [document_info(d) for d in docs]

    def list_document_rows(self, principal: Principal, patient_id: str, category: str | None = None, *,
                           emergency_purpose: str | None = None) -> list[DocumentRow]:
        """:meth:`list_documents` with the stored facts of each document (origin, format, storage
        time), for callers that render richer metadata such as an MHD DocumentReference."""
        self._known_category(category)
        patient = self._patient(patient_id)
        wanted = (category,) if category else ()
        self.authorize(principal, "list", patient, wanted)
        purpose = self._emergency(principal, patient, emergency_purpose, "search", wanted)
        docs = self.visible_documents(principal, patient.id, category, emergency=purpose is not None)
        self.log_access(AccessEvent("search", principal, patient, documents=tuple(docs), categories=wanted,
                                    emergency_purpose=purpose, query=_query_text(patient.id, category),
                                    recorded=self.clock()))
        return docs

    def fetch(self, principal: Principal, patient_id: str, category: str | None = None, *,
              document_id: str | None = None, emergency_purpose: str | None = None) -> dict[str, Any]:
        """Export one document as a FHIR document Bundle; logged.

        Without `document_id`: the latest visible document of `category` (:meth:`latest_document`: the
        newest document date, the later filed on a tie).
        With `emergency_purpose` (Art 11(5)): restricted documents are included and
        the log entry carries BTG and the purpose; a blank purpose is Denied.
        """
        if category is None and document_id is None:
            raise Rejected("fetch needs a category or a document_id")
        self._known_category(category)
        patient = self._patient(patient_id)
        wanted = (category,) if category else ()
        self.authorize(principal, "fetch", patient, wanted)
        purpose = self._emergency(principal, patient, emergency_purpose, "read", wanted)
        docs = self.visible_documents(principal, patient.id, category, emergency=purpose is not None)
        if document_id is not None:
            docs = [d for d in docs if d.id == document_id]
        chosen = self.latest_document(docs)
        if chosen is None:
            raise NotFound(f"no {category or 'such'} document for this patient")
        bundle = self.export_document(chosen)
        self.log_access(AccessEvent("read", principal, patient, documents=(chosen,), emergency_purpose=purpose,
                                    recorded=self.clock()))
        return bundle

    def export_all(self, principal: Principal, patient_id: str) -> list[dict[str, Any]]:
        """Every document of the patient as FHIR document Bundles (CDA wrapped unchanged), each once,
        for system replacement (EHDS-INT-011); the data holder only (the auditor account). Logged as a
        read of every document exported."""
        patient = self._patient(patient_id)
        self.authorize(principal, "export-all", patient)
        docs = self.exportable_documents(patient.id)
        bundles = [self.export_document(d) for d in docs]
        self.log_access(AccessEvent("read", principal, patient, documents=tuple(docs),
                                    query=f"Patient/{patient.id}/$everything", recorded=self.clock()))
        return bundles

    def fetch_by_id(self, principal: Principal, document_id: str, *,
                    emergency_purpose: str | None = None) -> dict[str, Any]:
        """:meth:`fetch` when only the document id is known (e.g. ``GET Bundle/<id>``)."""
        row = self.store.document(document_id)
        if row is None:
            raise NotFound(f"no such document {document_id!r}")
        return self.fetch(principal, row.patient_id, document_id=document_id, emergency_purpose=emergency_purpose)

    def _emergency(self, principal: Principal, patient: PatientRow, purpose: str | None, action: str,
                   wanted: tuple[str, ...]) -> str | None:
        if purpose is None:
            return None
        try:
            return self.check_emergency_purpose(principal, purpose)
        except Denied as exc:
            self.log_access(AccessEvent(action, principal, patient, categories=wanted, outcome=MINOR_FAILURE,
                                        outcome_desc=f"emergency access refused: {exc.reason}",
                                        emergency_purpose="", recorded=self.clock()))
            raise

    def access_log(self, principal: Principal, patient_id: str) -> list[dict[str, Any]]:
        """The AuditEvents about this patient, oldest first (patient: own; auditor: any; HP: Denied)."""
        patient = self._patient(patient_id)
        self.authorize(principal, "read-log", patient)
        return self.retained(self.store.audit_events(patient.id))

    # =================================================================================
    # Retention of the access log (EHDS-LOG-010) and the sandbox clock
    # =================================================================================

    def log_retention(self) -> dt.timedelta | None:
        """How long access-log records stay retrievable (None: without limit)."""
        return dt.timedelta(days=self.log_retention_days)

    def retained(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries still within the retention period. Older ones stay in the file (the log is
        append-only) but are no longer served."""
        retention = self.log_retention()
        if retention is None:
            return entries
        horizon = self.clock() - retention
        return [e for e in entries if _recorded(e) is None or _recorded(e) >= horizon]  # type: ignore[operator]

    def shift_clock(self, delta: dt.timedelta) -> None:
        """Sandbox: move this EHR's "now" by `delta` (negative moves it back)."""
        self.clock_offset += delta

    def restrict(self, principal: Principal, patient_id: str, restriction: Restriction) -> None:
        """The patient withholds documents and/or categories from health professionals (replaces earlier ones)."""
        patient = self._patient(patient_id)
        self.authorize(principal, "restrict", patient)
        unknown = sorted(set(restriction.categories) - set(PRIORITY_CATEGORIES))
        if unknown:
            raise Rejected(f"unknown categories {unknown}; use {', '.join(PRIORITY_CATEGORIES)}")
        with self.store.transaction() as tx:
            tx.set_restriction(patient.id, frozenset(restriction.document_ids), frozenset(restriction.categories),
                               _instant(self.clock()))

    def restriction(self, principal: Principal, patient_id: str) -> Restriction:
        """The patient's current restriction (the patient only)."""
        patient = self._patient(patient_id)
        self.authorize(principal, "restrict", patient)
        row = self.store.restriction(patient.id)
        return Restriction(row.document_ids, row.categories)


def document_info(row: DocumentRow) -> DocumentInfo:
    """The contract's listing entry of a stored document: subject, category, title, the document's own
    date and its custodian (the origin filed with it, ``system|value``)."""
    return DocumentInfo(row.id, row.patient_id, row.category, row.title, row.date,
                        custodian=row.origin_identifier or None)


def _recorded(entry: Mapping[str, Any]) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(str(entry.get("recorded", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _query_text(patient_id: str, category: str | None) -> str:
    text = f"DocumentReference?patient=Patient/{patient_id}"
    if category:
        text += f"&type={intake.LOINC}|{intake.LOINC_BY_CATEGORY[category]}"
    return text


def _issues_of(result: Any) -> list[ValidationIssue]:
    """Accept a validator's answer as a list of issues or an object with `.issues`."""
    issues: Iterable[Any] = getattr(result, "issues", result) or []
    return [i for i in issues if isinstance(i, ValidationIssue)]
