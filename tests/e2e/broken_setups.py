"""Adapters that are broken before any check could run: each must cost one line and an exit code."""

from __future__ import annotations

from typing import Any

from tests.e2e.dict_ehr import DictEHR


def failing_factory(config: dict[str, Any] | None = None) -> Any:
    raise ValueError("missing 'base_url' in sut.toml")


def not_an_adapter(config: dict[str, Any] | None = None) -> Any:
    return object()


class _Unreachable(DictEHR):
    def describe(self) -> Any:
        raise ConnectionRefusedError(111, "Connection refused")


def unreachable(config: dict[str, Any] | None = None) -> Any:
    return _Unreachable()


class _LockedOut(DictEHR):
    def login(self, actor: Any) -> Any:
        from conformance.adapter import Denied

        raise Denied("account locked")


def locked_out(config: dict[str, Any] | None = None) -> Any:
    return _LockedOut()


class _AssertingSession:
    """A session whose submit trips an `assert` in adapter code (a vendor bug, not a verdict)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.actor = inner.actor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def submit(self, document: Any) -> Any:
        assert isinstance(document, bytes), "adapter expected CDA bytes"
        return self._inner.submit(document)


class _Asserting(DictEHR):
    def login(self, actor: Any) -> Any:
        return _AssertingSession(super().login(actor))


def asserting(config: dict[str, Any] | None = None) -> Any:
    return _Asserting()
