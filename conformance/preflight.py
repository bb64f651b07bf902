"""Checks made before any requirement check runs, so a broken set-up costs one line, not a run.

`conformance run` calls :func:`preflight` first. Each failure is a :class:`PreflightError`
carrying one line for the terminal and the documented exit code: 2 for a usage or
configuration problem (unknown adapter, a factory that does not build, an object that
is not an adapter, a test account that cannot log in, a bad attestations file, an
unwritable or already used report folder), 3 when the SUT cannot be reached.
It also returns the secrets of the test accounts, so every output channel can mask them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import ConformanceError

EXIT_USAGE, EXIT_UNREACHABLE = 2, 3

#: Exceptions meaning "nothing answered" rather than "the set-up is wrong".
_UNREACHABLE_NAMES = ("ConnectError", "ConnectTimeout", "ConnectionRefusedError", "ConnectionError",
                      "TimeoutException", "ReadTimeout", "gaierror")


class PreflightError(ConformanceError):
    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Preflight:
    """What preflight learnt: the SUT's description and the secrets to mask in every output."""

    description: Any = None
    secrets: set[str] = field(default_factory=set)


def _unreachable(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in _UNREACHABLE_NAMES or isinstance(current, (ConnectionError, TimeoutError)):
            return True
        current = current.__cause__ or current.__context__
    return False


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}"


def check_report_folder(report_dir: str, run_id: str | None, *, force: bool) -> None:
    """The report folder can be written, and a named run folder is not silently overwritten."""
    base = Path(report_dir)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PreflightError(f"cannot create the report folder {report_dir}: {exc.strerror or exc}; "
                             "choose another with --report-dir") from None
    if not os.access(base, os.W_OK):
        raise PreflightError(f"the report folder {report_dir} is not writable; choose another with --report-dir")
    if run_id and (base / run_id).exists():
        from conformance.report import ReportExists, check_folder

        try:
            check_folder(base / run_id, force=force)
        except ReportExists as exc:
            raise PreflightError(f"{exc}; choose another --run-id" + ("" if force else ", or pass --force to "
                                 "replace an unsigned report")) from None


def check_attestations(path: str | None) -> None:
    if not path:
        return
    from conformance.errors import UsageError
    from conformance.report.attestations import load_attestations

    try:
        load_attestations(path)
    except UsageError as exc:
        raise PreflightError(f"attestations file: {exc}") from None
    except OSError as exc:
        raise PreflightError(f"cannot read the attestations file {path}: {exc.strerror or exc}") from None


def check_adapter(name: str, config_path: str | None, timeout: float) -> Preflight:
    """The adapter resolves and builds, describes itself validly, and every test account logs in."""
    from conformance.adapter import Adapter, SutDescription, TestAccounts, create_adapter, load_config
    from conformance.errors import UsageError
    from conformance.guard import GuardedAdapter

    config = load_config(config_path)
    if config_path:
        os.environ["CONFORMANCE_ADAPTER_CONFIG"] = str(Path(config_path).resolve())
    try:
        adapter = create_adapter(name, config)
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of vendor code is reported in one line
        code = EXIT_UNREACHABLE if _unreachable(exc) else EXIT_USAGE
        raise PreflightError(f"the adapter {name!r} could not be built: {_one_line(exc)}", code) from None
    missing = [m for m in ("describe", "test_accounts", "login") if not callable(getattr(adapter, m, None))]
    if missing or not isinstance(adapter, Adapter) and missing:
        raise PreflightError(f"{name!r} built a {type(adapter).__name__}, which is not an adapter: it lacks "
                             f"{', '.join(missing)} (see README: writing an adapter)")
    guarded = GuardedAdapter(adapter, timeout=timeout)
    found = Preflight()
    try:
        try:
            description = guarded.describe()
        except Exception as exc:  # noqa: BLE001
            code = EXIT_UNREACHABLE if _unreachable(exc) else EXIT_USAGE
            raise PreflightError(f"the SUT did not describe itself: {_one_line(exc)}", code) from None
        if not isinstance(description, SutDescription):
            raise PreflightError(f"describe() returned a {type(description).__name__}, not a SutDescription")
        found.description = description
        try:
            accounts = guarded.test_accounts()
        except Exception as exc:  # noqa: BLE001
            raise PreflightError(f"test_accounts() failed: {_one_line(exc)}") from None
        if not isinstance(accounts, TestAccounts):
            raise PreflightError(f"test_accounts() returned a {type(accounts).__name__}, not TestAccounts")
        for actor in (accounts.hp, accounts.hp_other, accounts.auditor):
            found.secrets |= {str(v) for v in actor.credentials.values() if v and len(str(v)) >= 4}
        found.secrets |= {str(v) for v in accounts.patient_credentials.values() if v and len(str(v)) >= 4}
        for label, actor in (("hp", accounts.hp), ("hp_other", accounts.hp_other), ("auditor", accounts.auditor)):
            try:
                guarded.login(actor)
            except Exception as exc:  # noqa: BLE001
                code = EXIT_UNREACHABLE if _unreachable(exc) else EXIT_USAGE
                raise PreflightError(f"the test account {label} ({actor.identifier or 'no identifier'}) cannot log "
                                     f"in: {_one_line(exc)}; provision it in the SUT's sandbox", code) from None
    finally:
        close = getattr(adapter, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a preflight connection must not hide the real answer
                pass
    return found


__all__ = ["EXIT_UNREACHABLE", "EXIT_USAGE", "Preflight", "PreflightError", "check_adapter", "check_attestations",
           "check_report_folder"]
