"""The embedded reference EHR: the default system under test, and the example to copy.

``create(config)`` is registered as the ``reference`` adapter
(entry point ``conformance.adapters``). Configuration keys (all optional):

``db``
    Path of the SQLite file to use (kept after the run). Default: a fresh temporary
    directory, removed by ``close()``.
``validation``
    ``"auto"`` (default: full FHIR / CDA validation when installed, plus structural
    checks) or ``"structural"`` (structural checks only; faster).
``passwords``
    A table fixing sandbox passwords by account name (``hp``, ``hp_other``,
    ``auditor``, ``patient``); unspecified ones are random.
``sesali``
    French set-up (all optional): ``psc_issuer`` and ``psc_audience`` (the Pro Sante Connect
    issuer whose ID tokens are trusted, and this EHR's client id), ``translations`` (a folder
    of FHIR ValueSet / ConceptMap JSON files: the translation catalogue to load).
``log_retention_days``
    How long access-log records stay retrievable (default 3660 days; EHDS-LOG-010
    asks for at least three years).

Layout: :mod:`.service` (all EHR rules), :mod:`.store` (SQLite), :mod:`.intake`
(reading incoming documents), :mod:`.accounts` (sandbox identities),
:mod:`.adapter` (the contract mapped onto the service).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.adapters.reference.adapter import ReferenceAdapter
    from conformance.adapters.reference.service import ReferenceEHR


def create(config: Mapping[str, Any] | None = None, *, service_class: type[ReferenceEHR] | None = None,
           product: str | None = None, version: str | None = None, vendor: str | None = None,
           extra: Mapping[str, Any] | None = None) -> ReferenceAdapter:
    """Build the reference adapter.

    `service_class` swaps in a subclass of :class:`ReferenceEHR` (how the mutants in
    ``tests/mutants/`` and the vendor example reuse this code); `product`, `version`,
    `vendor` and `extra` change what ``describe()`` reports.
    """
    from conformance.adapters.reference.accounts import provision_sandbox
    from conformance.adapters.reference.adapter import ReferenceAdapter
    from conformance.adapters.reference.service import ReferenceEHR
    from conformance.errors import UsageError

    config = dict(config or {})
    unknown = sorted(set(config) - {"db", "validation", "passwords", "sesali", "log_retention_days"})
    if unknown:
        raise UsageError(f"reference adapter: unknown configuration keys {unknown}; "
                         "known: db, validation, passwords, sesali, log_retention_days")
    sesali = config.get("sesali") or {}
    if not isinstance(sesali, Mapping) or set(sesali) - {"psc_issuer", "psc_audience", "translations"}:
        raise UsageError("reference adapter: 'sesali' must be a table with psc_issuer, psc_audience, translations")
    owned: Path | None = None
    if config.get("db"):
        db_path = Path(str(config["db"])).expanduser()
    else:
        owned = Path(tempfile.mkdtemp(prefix="ehds-reference-"))
        db_path = owned / "ehr.sqlite"
    validation = str(config.get("validation", "auto"))
    if validation not in ("auto", "structural"):
        raise UsageError(f"reference adapter: validation must be 'auto' or 'structural', not {validation!r}")
    passwords = config.get("passwords") or {}
    if not isinstance(passwords, Mapping):
        raise UsageError("reference adapter: 'passwords' must be a table of account name -> password")
    ehr = (service_class or ReferenceEHR)(db_path, validation=validation)
    if "log_retention_days" in config:
        try:
            ehr.log_retention_days = int(config["log_retention_days"])
        except (TypeError, ValueError):
            ehr.close()
            raise UsageError("reference adapter: log_retention_days must be a whole number of days") from None
    try:
        accounts = provision_sandbox(ehr, {str(k): str(v) for k, v in passwords.items()})
        _configure_sesali(ehr, sesali)
    except BaseException:
        ehr.close()
        raise
    kwargs: dict[str, Any] = {"product": product, "version": version, "extra": extra, "owned_dir": owned}
    if vendor:
        kwargs["vendor"] = vendor
    return ReferenceAdapter(ehr, accounts, **kwargs)


def _configure_sesali(ehr: ReferenceEHR, sesali: Mapping[str, Any]) -> None:
    """The French sandbox set-up from sut.toml: the trusted PSC issuer, the translation catalogue."""
    import json
    import os

    if sesali.get("psc_issuer"):
        ehr.trust_identity_provider(str(sesali["psc_issuer"]), str(sesali.get("psc_audience", "")))
    if sesali.get("translations"):
        folder = Path(str(sesali["translations"])).expanduser()
        if not folder.is_absolute() and os.environ.get("CONFORMANCE_ADAPTER_CONFIG"):
            folder = Path(os.environ["CONFORMANCE_ADAPTER_CONFIG"]).parent / folder
        ehr.load_terminology([json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))])


__all__ = ["create"]
