"""Wrap an adapter so that a crashing or hanging SUT costs one check, not the run.

Every call goes to a worker thread (reused between calls) and is waited for with a time limit. The
contract's answers (Denied, Rejected, NotFound, NotSupported) pass through;
anything else raised becomes an AdapterError; a call that does not return in
time becomes an AdapterTimeout. KeyboardInterrupt and SystemExit propagate
(a request to stop is not a fault of the SUT). After one timeout the guard
refuses further calls for the same check at once (a hung SUT would otherwise
make hypothesis wait out every example), until `reset_trip()` is called by the
plugin before the next check.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, wait
from typing import Any, Callable

from conformance.adapter import AdapterAnswer
from conformance.errors import AdapterError, AdapterTimeout

DEFAULT_TIMEOUT = 30.0


class _Trip:
    def __init__(self) -> None:
        self.tripped: str | None = None


_IDLE_NAME = "adapter-worker (idle)"


class _Worker:
    """A reusable daemon thread that runs adapter calls one at a time.

    Why reuse: a run makes thousands of adapter calls (the state machines call at every step,
    and shrinking replays sequences), and starting a thread per call was a measurable share of
    a run. A worker whose call hangs is abandoned (it ends once the call returns, if ever); a
    new one takes its place. While it runs a call it is named ``adapter-call:<label>``."""

    _idle: list[_Worker] = []
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[str, Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self.abandoned = False
        self._thread = threading.Thread(target=self._loop, name=_IDLE_NAME, daemon=True)
        self._thread.start()

    @classmethod
    def take(cls) -> _Worker:
        with cls._lock:
            if cls._idle:
                return cls._idle.pop()
        return cls()

    def submit(self, label: str, call: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((label, call, future))
        return future

    def abandon_unless_done(self, future: Future[Any]) -> bool:
        """After a wait that timed out: True (and the worker is given up) if the call is still running."""
        with _Worker._lock:
            if future.done():
                return False
            self.abandoned = True
            return True

    def _loop(self) -> None:
        while True:
            label, call, future = self._jobs.get()
            self._thread.name = f"adapter-call:{label}"
            try:
                future.set_result(call())
            except BaseException as exc:  # noqa: BLE001 - everything is reported through the future
                future.set_exception(exc)
            self._thread.name = _IDLE_NAME
            with _Worker._lock:
                if self.abandoned:
                    return
                _Worker._idle.append(self)


def _call_with_limit(trip: _Trip, label: str, timeout: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if trip.tripped:
        raise AdapterTimeout(f"{label} not attempted: an earlier call in this check hung ({trip.tripped})")
    worker = _Worker.take()
    future = worker.submit(label, lambda: fn(*args, **kwargs))
    wait([future], timeout=timeout)
    if worker.abandon_unless_done(future):
        trip.tripped = label
        raise AdapterTimeout(f"{label} did not return within {timeout:g} s (adapter hung)")
    try:
        return future.result()
    except AdapterAnswer:
        raise
    except Exception as exc:  # AssertionError included: an assert in *adapter* code is a crash, not a verdict
        raise AdapterError(f"{label} raised {type(exc).__name__}: {_text(exc)}") from exc
    # BaseExceptions that are not Exceptions (KeyboardInterrupt, SystemExit, GeneratorExit) propagate
    # unchanged: they ask the run to stop; they are no fault of the SUT to record as an error verdict.


def _text(exc: BaseException) -> str:
    """str(exc), even for an exception whose __str__ raises (it must not escape the guard)."""
    try:
        return str(exc)
    except Exception as broken:  # noqa: BLE001 - any failure here is the adapter's, and is reported
        return f"<str() of the exception raised {type(broken).__name__}>"


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
