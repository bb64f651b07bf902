"""The adapter contract: how the harness talks to a system under test (SUT).

A vendor implements :class:`Adapter` (or configures the built-in ``fhir`` REST
adapter). Checks only ever use these methods, so the same checks run against the
embedded reference EHR, a vendor's Python plugin, or a FHIR server over HTTP.

Answers the checks reason about are the exceptions :class:`Denied`,
:class:`Rejected`, :class:`NotFound` and :class:`NotSupported`. Anything else an
adapter raises, or a call that hangs, becomes an *error* verdict for that one
check (see :mod:`conformance.guard`), never a crashed run.

Identity model: patients are identified by a business identifier (system|value)
carried in the documents the SUT receives; every check makes its own patients
with fresh identifiers, so checks are independent and can run in parallel
against one shared server.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable, Mapping, Protocol, Sequence, TypeVar, runtime_checkable

from conformance.errors import ConformanceError, UsageError

ENTRY_POINT_GROUP = "conformance.adapters"

#: The six EHDS priority categories (Art 14(1)), as used in profiles and the contract.
from conformance.categories import PRIORITY_CATEGORIES  # noqa: E402,F401  (re-exported)


class Capability(str, enum.Enum):
    """Things a SUT may or may not offer. A check needing one the SUT does not
    declare gets the verdict ``not-applicable`` with the reason."""

    FHIR = "format:fhir"
    CDA = "format:cda"
    SUBMIT = "submit"  # accepts documents (consumer role)
    EXPORT = "export"  # produces documents (provider role)
    ACCESS_LOG = "access-log"  # the European logging component
    RESTRICTION = "restriction"  # Art 8: the patient can restrict access
    EMERGENCY_ACCESS = "emergency-access"  # Art 11(5) override
    PATIENT_ACCESS = "patient-access"  # the patient reads their own access log (Art 9)
    HTTP = "http"  # reached over HTTP (enables transport/token checks)
    # the data holder exports every document of a patient (Session.export_all) so the system can be
    # replaced without losing data (EHDS-INT-011)
    FULL_EXPORT = "full-export"
    # the patient's consent to an access for a purpose is recorded, withdrawn and enforced
    # (Session.record_consent / withdraw_consent / fetch_for_purpose)
    CONSENT = "consent"
    # health professionals log in with an OpenID Connect ID token from a national identity provider
    # the SUT trusts (e.g. Pro Sante Connect): Actor.credentials {"oidc_id_token", "oidc_access_token"}
    OIDC_LOGIN = "oidc-login"
    # what a professional is shown for a received summary, in their language, from a loaded
    # translation catalogue (Session.displayed_summary; Adapter.load_terminology)
    TRANSLATED_DISPLAY = "translated-display"
    # foreign patients are looked up by the identity traits their country uses (Session.find_patient_by_traits)
    TRAIT_LOOKUP = "trait-lookup"
    # the SUT is a *client* (a professional's software) that opens a foreign patient's summary from a
    # national contact point (Session.open_foreign_summary)
    FOREIGN_SUMMARY_CLIENT = "foreign-summary-client"
    # the harness may move the SUT's clock and read its declared access-log retention
    # (Adapter.shift_clock / Adapter.log_retention, see :class:`Adapter`), so retention is testable
    CLOCK = "clock"


class ActorKind(str, enum.Enum):
    HEALTH_PROFESSIONAL = "health-professional"
    PATIENT = "patient"
    AUDITOR = "auditor"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Organisation:
    identifier: str  # e.g. "urn:oid:1.2.250.1.71.4.2.2|10B0152872"
    name: str


@dataclass(frozen=True)
class Actor:
    """Someone who uses the SUT. `credentials` is opaque to the harness and
    never written to a report (it may hold passwords or keys)."""

    kind: ActorKind
    identifier: str = ""  # system|value, e.g. the professional's RPPS or the patient's INS
    name: str = ""
    organisation: Organisation | None = None
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def describe(self) -> dict[str, Any]:
        """A JSON-safe description for evidence (never includes credentials)."""
        out: dict[str, Any] = {"kind": self.kind.value, "identifier": self.identifier, "name": self.name}
        if self.organisation:
            out["organisation"] = {"identifier": self.organisation.identifier, "name": self.organisation.name}
        return out


@dataclass(frozen=True)
class SutDescription:
    product: str
    version: str
    vendor: str
    capabilities: frozenset[Capability]
    produces: frozenset[str] = frozenset()  # priority categories it exports
    consumes: frozenset[str] = frozenset()  # priority categories it imports
    extra: Mapping[str, Any] = field(default_factory=dict)

    def declares(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def to_json(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "version": self.version,
            "vendor": self.vendor,
            "capabilities": sorted(c.value for c in self.capabilities),
            "produces": sorted(self.produces),
            "consumes": sorted(self.consumes),
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


@dataclass(frozen=True)
class Receipt:
    """What the SUT answers when it accepted a document."""

    document_id: str
    patient_id: str


@dataclass(frozen=True)
class DocumentInfo:
    """One entry of a document listing (MHD DocumentReference-like).

    ``date``: the document's own date (its Composition.date). ``custodian``: the organisation that
    holds the document, the origin of the data (MHD DocumentReference.custodian), as the
    organisation's business identifier ``system|value``; ``None`` when the adapter does not report
    it (the default, so adapters written before the field keep working; EHDS-INT-003 asks every
    entry to name its custodian, so a listing without one does not pass it).
    """

    document_id: str
    patient_id: str
    category: str
    title: str = ""
    date: str = ""
    custodian: str | None = None


_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_T = TypeVar("_T")


def document_time(date: str) -> dt.datetime:
    """A document's date (FHIR date or dateTime) as a UTC instant, for ordering documents.

    A date without a time counts from the start of that day (month, year) in UTC, a time without a
    zone as UTC; a missing or unreadable date orders before every readable one.
    """
    text = str(date or "").strip()
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return _OLDEST
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def latest(documents: Sequence[_T], date: Callable[[_T], str]) -> _T | None:
    """THE latest document of a category: what ``fetch(patient, category)`` without a ``document_id``
    returns, defined once for the SUT side and the checks.

    The document with the newest document date (``date(d)``: its Composition.date, as listed in
    DocumentInfo.date / DocumentReference.date), compared as instants (:func:`document_time`), so a
    document received late but dated earlier does not displace a newer one. Documents of the same
    instant are told apart by the order of ``documents``, the later one winning: pass them in the order
    the SUT received them (the reference EHR's filing order, which is also the order its searchset lists
    them over HTTP). None when there are none.
    """
    best: _T | None = None
    best_time = None
    for document in documents:
        when = document_time(date(document))
        if best_time is None or when >= best_time:
            best, best_time = document, when
    return best


@dataclass(frozen=True)
class Restriction:
    """A patient's restriction of access (Art 8): whole documents and/or whole
    categories withheld from health professionals unless emergency access applies."""

    document_ids: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Consent:
    """A patient's consent to an access for a purpose (optional CONSENT capability).

    ``purpose``: what the access is for, as a code the profile names (e.g. ``"cross-border-care"``,
    a French professional reading a summary through the national contact point). ``grantee``: who
    may access under it, the professional's business identifier (system|value); ``""`` means any
    health professional. Who recorded it and when are the SUT's to record (the session's actor, the
    SUT's clock) and to show in :class:`ConsentRecord`.
    """

    purpose: str
    grantee: str = ""


@dataclass(frozen=True)
class ConsentRecord:
    """A consent as the SUT holds it: its id (FHIR ``Consent/<id>``), the consent, who recorded it,
    when, and whether it is still in force."""

    consent_id: str
    patient_id: str
    consent: Consent
    recorded_by: str
    recorded: str
    active: bool = True


@dataclass(frozen=True)
class DisplayedItem:
    """One coded item as the professional is shown it (optional TRANSLATED_DISPLAY capability).

    ``system``/``code``: the coding as received. ``shown``: the text on screen. ``language``: the
    language of ``shown`` (BCP 47, e.g. ``"fr-FR"``); the received language (or ``""``) when no
    translation exists, in which case ``shown`` must still name the item (its original display or
    code): an untranslatable code is shown as such, never dropped. ``original``: the original-language
    display or text as received, still available to the reader.
    """

    system: str
    code: str
    shown: str
    language: str
    original: str = ""


@dataclass(frozen=True)
class DisplayedSummary:
    """What the professional is shown for a received summary: its coded items in the reader's language."""

    language: str
    items: tuple[DisplayedItem, ...] = ()


# ---- answers the checks reason about -------------------------------------------------


class AdapterAnswer(ConformanceError):
    """Base of the contract's answers. Raised by adapters, caught by checks."""

    def __init__(self, reason: str = "", *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = dict(details or {})


class Denied(AdapterAnswer):
    """Authentication or authorisation refused."""


class Rejected(AdapterAnswer):
    """Input refused as invalid; the SUT must have stored nothing."""


class NotFound(AdapterAnswer):
    """No such patient or document (or none the actor may see)."""


class NotSupported(AdapterAnswer):
    """The SUT does not offer this operation."""


# ---- the protocol --------------------------------------------------------------------


@runtime_checkable
class Session(Protocol):
    """What one logged-in actor can do.

    Optional method (not part of the protocol, so existing adapters stay valid), offered
    when the SUT declares :attr:`Capability.FULL_EXPORT`:

    ``export_all(patient_id) -> list[dict]``
        Every document the system holds for the patient, each exactly once, as FHIR
        document Bundles (a CDA document as the Bundle wrapping it, as ``fetch`` returns
        it): the complete export that lets the system be replaced without losing data
        (EHDS-INT-011). It is done on the data holder's behalf, so the checks call it as
        the ``auditor`` test account; restrictions (Art 8) do not thin it out, because they
        bind health professionals' access, not the data holder's migration. Raise Denied
        for actors who may not export, NotSupported when the SUT cannot.

    Optional methods of national profiles (offered when the SUT declares the capability named):

    ``record_consent(patient_id, consent: Consent) -> ConsentRecord`` (CONSENT)
        Record the patient's consent to an access for ``consent.purpose`` by ``consent.grantee``,
        with who recorded it (the session's actor: the patient, or the professional in front of
        whom the patient consented) and when. The SUT may carry it as a FHIR Consent resource. Denied
        for actors who may not record that patient's consent (another patient).
    ``withdraw_consent(patient_id, consent_id) -> None`` (CONSENT)
        The consent is no longer in force from now on (kept for the record, never deleted). NotFound
        when ``consent_id`` is not a consent of ``patient_id``; Denied for actors who may not change
        that patient's consents (another patient).
    ``fetch_for_purpose(patient_id, category, purpose, *, document_id=None) -> dict`` (CONSENT)
        ``fetch`` for an access the national rules subject to consent (e.g. ``cross-border-care``):
        Denied unless a consent for that purpose covers the actor; the access is logged either way,
        and the log entry of an allowed access refers to the consent (``Consent/<id>``).
    ``displayed_summary(patient_id, *, document_id=None, language="fr-FR") -> DisplayedSummary``
        (TRANSLATED_DISPLAY) What the professional is shown for a received summary: every coded item
        with its display in ``language`` from the loaded translation catalogue, the original text kept.
    ``find_patient_by_traits(country, traits: Mapping[str, str]) -> str`` (TRAIT_LOOKUP)
        The SUT's patient id of a patient from ``country`` (ISO 3166-1 alpha-2) identified by the
        identity traits that country uses for cross-border identification (e.g. ``national_id`` and
        ``birth_date``); NotFound when the traits are missing, mismatch, or only partly match.
    ``open_foreign_summary(country, traits: Mapping[str, str], *, consent=True) -> DisplayedSummary``
        (FOREIGN_SUMMARY_CLIENT) A *client* SUT (a professional's software) uses its user's
        national sign-in (the actor's credentials, e.g. ``psc_username`` / ``psc_password`` of the
        harness's mock Pro Sante Connect), asks the national contact point for the patient's
        summary with the patient's consent (``consent``: whether the patient gave it) and the
        country's identity traits, and returns what the professional is shown. Raise Denied when
        the patient did not consent (or nobody signed in), NotFound when the patient is not found,
        NotSupported when the country is not available; the client logs each outcome (``client_log()``).
    ``client_log() -> list[dict]`` (FOREIGN_SUMMARY_CLIENT)
        The client's own log of its calls, newest last, as FHIR AuditEvents (outcome + outcomeDesc).
    """

    actor: Actor

    def submit(self, document: Mapping[str, Any] | bytes) -> Receipt:
        """Import a FHIR document Bundle (dict) or a CDA document (bytes).
        Invalid input: raise Rejected(reason) and store nothing."""

    def find_patient(self, identifier: str) -> str:
        """Return the SUT's patient id for a business identifier (system|value); NotFound if none."""

    def list_documents(self, patient_id: str, category: str | None = None) -> list[DocumentInfo]:
        """Documents of a patient the actor may see (restricted ones are absent, silently)."""

    def fetch(self, patient_id: str, category: str, *, document_id: str | None = None,
              emergency_purpose: str | None = None) -> dict[str, Any]:
        """Export in EEHRxF: a FHIR document Bundle. With `document_id`, that document; without, the
        latest visible document of `category` (the newest document date, the later received on a tie: see
        :func:`latest`). With `emergency_purpose`, the Art 11(5) override: restricted data is included and
        the access is logged with that purpose."""

    def access_log(self, patient_id: str) -> list[dict[str, Any]]:
        """The access-log entries about this patient as FHIR AuditEvent resources."""

    def restrict(self, patient_id: str, restriction: Restriction) -> None:
        """The patient restricts access to (some of) their data. Replaces earlier restrictions."""


@dataclass(frozen=True)
class TestAccounts:
    """The SUT's test identities. The vendor provisions them in its sandbox; the harness
    logs in as them. `hp` and `hp_other` work for two different organisations."""

    __test__ = False  # not a pytest test class

    hp: Actor
    hp_other: Actor
    auditor: Actor
    patient_credentials: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def anonymous(self) -> Actor:
        return Actor(ActorKind.ANONYMOUS)

    def patient(self, identifier: str, name: str = "") -> Actor:
        """The patient with this business identifier, as an actor that can log in."""
        return Actor(ActorKind.PATIENT, identifier=identifier, name=name, credentials=self.patient_credentials)


@runtime_checkable
class Adapter(Protocol):
    """Entry point of a SUT. `login(actor)` raises Denied for wrong or missing credentials.

    Optional methods (not part of the protocol, so existing adapters stay valid), offered when
    the SUT declares :attr:`Capability.CLOCK` (a sandbox feature; a SUT shared by parallel runs
    should not offer it, since moving its clock affects everybody):

    ``shift_clock(delta: datetime.timedelta) -> None``
        Move the SUT's notion of "now" by ``delta`` (negative moves it back) for everything it
        does afterwards (log times, retention, token lifetimes), as if that much time had passed,
        including any housekeeping (retention purges) due in that time. The harness always moves
        the clock back by the same amount when it is done.
    ``log_retention() -> datetime.timedelta | None``
        How long the SUT keeps access-log records as configured now (None: without limit).
        EHDS-LOG-010 asks for at least three years after each access.
    """

    def describe(self) -> SutDescription: ...

    def test_accounts(self) -> TestAccounts: ...

    def login(self, actor: Actor) -> Session: ...

    def close(self) -> None: ...

    # Optional sandbox set-up (not part of the protocol). When an adapter lacks one, the vendor
    # configures the same in the SUT's sandbox by hand (sut.toml / the product's admin screens).
    #
    # ``load_terminology(resources: list[dict]) -> None``
    #     Load FHIR terminology resources (ValueSets / ConceptMaps with designations, e.g. a test
    #     translation catalogue) into the sandbox, as an NCP loads the eHDSI master catalogue.
    # ``configure_identity_traits(table: dict[str, dict[str, str]]) -> None``
    #     The per-country identity traits of foreign patients: ``{country: {trait: identifier system
    #     or "" for the demographic traits birth_date / family_name / given_name}}``.
    # ``trust_identity_provider(issuer, audience) -> None``
    #     Trust ID tokens from this OpenID Connect issuer (discovery at
    #     ``<issuer>/.well-known/openid-configuration``) issued for this audience (client id).
    # ``use_contact_point(base_url, identity_provider) -> None`` (client SUTs)
    #     Call this national contact point, authenticating the professional with this OpenID
    #     Connect issuer.


AdapterFactory = Callable[..., Adapter]


# ---- discovery -----------------------------------------------------------------------


def available_adapters() -> dict[str, str]:
    """Names registered in the `conformance.adapters` entry-point group -> 'module:attr'."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def resolve_factory(name_or_path: str) -> AdapterFactory:
    """Find an adapter factory by entry-point name or as 'module:factory'.

    The current directory is importable (like `python -m`), so a vendor can point
    at `my_adapter:make` without installing anything.
    """
    registered = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name_or_path in registered:
        return registered[name_or_path].load()
    if ":" not in name_or_path:

        names = sorted(registered)
        from conformance.suggest import did_you_mean

        close = did_you_mean(name_or_path, names)
        hint = f" Did you mean {close!r}?" if close else ""
        raise UsageError(
            f"unknown adapter {name_or_path!r}.{hint} Available: {', '.join(names) or '(none)'}; "
            "or give one as 'module:factory'."
        )
    module_name, _, attr = name_or_path.partition(":")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import adapter module {module_name!r}: {exc}") from exc
    try:
        factory = getattr(module, attr)
    except AttributeError:
        raise UsageError(f"module {module_name!r} has no attribute {attr!r} (adapter factory)") from None
    if not callable(factory):
        raise UsageError(f"{name_or_path!r} is not callable: an adapter factory must be a function or class")
    return factory


def load_config(path: str | None) -> dict[str, Any]:
    """Read an adapter configuration file (TOML). None -> {}."""
    if not path:
        return {}
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read adapter config {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc


def create_adapter(name_or_path: str, config: Mapping[str, Any] | None = None) -> Adapter:
    """Instantiate an adapter: factory(config=...) if it takes a config, else factory()."""
    factory = resolve_factory(name_or_path)
    import inspect

    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    if "config" in params:
        return factory(config=dict(config or {}))
    return factory()
