"""Wrap an adapter so that a crashing or hanging SUT costs one check, not the run.

Every call goes to a worker thread and is waited for with a time limit. The
contract's answers (Denied, Rejected, NotFound, NotSupported) pass through;
anything else raised becomes an AdapterError; a call that does not return in
time becomes an AdapterTimeout. After one timeout the guard refuses further
calls for the same check at once (a hung SUT would otherwise make hypothesis
wait out every example), until `reset_trip()` is called by the plugin before
the next check.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Callable

from conformance.adapter import AdapterAnswer
from conformance.errors import AdapterError, AdapterTimeout

DEFAULT_TIMEOUT = 30.0


class _Trip:
    def __init__(self) -> None:
        self.tripped: str | None = None


def _call_with_limit(trip: _Trip, label: str, timeout: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if trip.tripped:
        raise AdapterTimeout(f"{label} not attempted: an earlier call in this check hung ({trip.tripped})")
    future: Future[Any] = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - everything is reported through the future
            future.set_exception(exc)

    thread = threading.Thread(target=run, name=f"adapter-call:{label}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        trip.tripped = label
        raise AdapterTimeout(f"{label} did not return within {timeout:g} s (adapter hung)")
    try:
        return future.result()
    except AdapterAnswer:
        raise
    except Exception as exc:  # AssertionError included: an assert in *adapter* code is a crash, not a verdict
        raise AdapterError(f"{label} raised {type(exc).__name__}: {exc}") from exc


class GuardedSession:
    """A Session proxy: same methods, each time-limited and crash-contained."""

    def __init__(self, session: Any, trip: _Trip, timeout: float) -> None:
        self._session = session
        self._trip = trip
        self._timeout = timeout
        self.actor = getattr(session, "actor", None)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._session, name)
        if not callable(target):
            return target

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return _call_with_limit(self._trip, f"session.{name}", self._timeout, target, *args, **kwargs)

        return guarded


class GuardedAdapter:
    """An Adapter proxy. `login` returns a GuardedSession."""

    def __init__(self, adapter: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._adapter = adapter
        self._timeout = timeout
        self._trip = _Trip()

    @property
    def wrapped(self) -> Any:
        return self._adapter

    def reset_trip(self) -> None:
        self._trip = _Trip()

    def login(self, actor: Any) -> GuardedSession:
        session = _call_with_limit(self._trip, "adapter.login", self._timeout, self._adapter.login, actor)
        return GuardedSession(session, self._trip, self._timeout)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._adapter, name)
        if not callable(target):
            return target

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return _call_with_limit(self._trip, f"adapter.{name}", self._timeout, target, *args, **kwargs)

        return guarded
