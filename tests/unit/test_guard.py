"""The guard (conformance/guard.py): what comes out of an adapter call for every kind of exception.

The contract's answers pass through unchanged (checks reason about them); any other
Exception becomes an AdapterError naming the call (an error verdict, never a fail, never a
crashed run); a hang becomes an AdapterTimeout within the limit and trips the guard for the
rest of the check. BaseExceptions that are not Exceptions (KeyboardInterrupt, SystemExit,
GeneratorExit) propagate unchanged: they are requests to stop, not faults of the SUT, and a
run interrupted with Ctrl-C must stop instead of recording an error verdict per check.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from conformance.adapter import Denied, NotFound, NotSupported, Rejected
from conformance.errors import AdapterError, AdapterTimeout
from conformance.guard import GuardedAdapter, GuardedSession

ANSWERS = [Denied("no"), Rejected("invalid: missing Composition"), NotFound("no such patient"),
           NotSupported("no restriction")]


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise ValueError("str() of this exception raises")


class _Session:
    actor = "hp"

    def __init__(self, behaviour: Any) -> None:
        self.behaviour = behaviour
        self.calls = 0

    def fetch(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.behaviour(*args, **kwargs)


class _Adapter:
    """A stand-in adapter whose `describe` and sessions' `fetch` do what the test says."""

    def __init__(self, behaviour: Any, login: Any = None) -> None:
        self.behaviour = behaviour
        self.login_behaviour = login
        self.session = _Session(behaviour)
        self.name = "stand-in"

    def describe(self) -> Any:
        return self.behaviour()

    def login(self, actor: Any) -> _Session:
        if self.login_behaviour:
            self.login_behaviour()
        return self.session


def _raises(exc: BaseException) -> Any:
    def behaviour(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return behaviour


def _hangs(release: threading.Event) -> Any:
    def behaviour(*args: Any, **kwargs: Any) -> Any:
        release.wait(30)
        return "late"

    return behaviour


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: type(a).__name__)
def test_contract_answers_pass_through_unchanged(answer: Exception) -> None:
    guarded = GuardedAdapter(_Adapter(_raises(answer)), timeout=5)
    with pytest.raises(type(answer)) as adapter_call:
        guarded.describe()
    assert adapter_call.value is answer
    with pytest.raises(type(answer)) as session_call:
        guarded.login("hp").fetch("p1", "patient-summary")
    assert session_call.value is answer


@pytest.mark.parametrize("exc", [RuntimeError("boom"), ValueError("bad value"), KeyError("missing"),
                                 AssertionError("an assert inside adapter code"), ZeroDivisionError(),
                                 _Unprintable()],
                         ids=lambda e: type(e).__name__)
def test_anything_else_becomes_an_adapter_error_naming_the_call(exc: Exception) -> None:
    guarded = GuardedAdapter(_Adapter(_raises(exc)), timeout=5)
    with pytest.raises(AdapterError) as adapter_call:
        guarded.describe()
    assert not isinstance(adapter_call.value, AssertionError)  # never read as a fail verdict
    assert "adapter.describe" in str(adapter_call.value) and type(exc).__name__ in str(adapter_call.value)
    assert adapter_call.value.__cause__ is exc
    with pytest.raises(AdapterError, match=r"session\.fetch") as session_call:
        guarded.login("hp").fetch("p1")
    assert session_call.value.__cause__ is exc


def test_a_crash_in_login_is_an_adapter_error() -> None:
    guarded = GuardedAdapter(_Adapter(lambda: None, login=_raises(OSError("connection reset"))), timeout=5)
    with pytest.raises(AdapterError, match=r"adapter\.login raised OSError: connection reset"):
        guarded.login("hp")


def test_results_and_attributes_come_back_unchanged() -> None:
    inner = _Adapter(lambda *a, **k: {"args": a, "kwargs": k})
    guarded = GuardedAdapter(inner, timeout=5)
    session = guarded.login("hp")
    assert isinstance(session, GuardedSession) and session.actor == "hp"
    assert session.fetch("p1", category="lab") == {"args": ("p1",), "kwargs": {"category": "lab"}}
    assert guarded.name == "stand-in" and guarded.wrapped is inner


def test_a_hang_is_a_timeout_within_the_limit_and_trips_the_check() -> None:
    release = threading.Event()
    inner = _Adapter(_hangs(release))
    guarded = GuardedAdapter(inner, timeout=0.3)
    session = guarded.login("hp")
    try:
        started = time.monotonic()
        with pytest.raises(AdapterTimeout, match=r"session\.fetch did not return within 0\.3 s"):
            session.fetch("p1")
        assert time.monotonic() - started < 3
        # the same check: later calls are refused at once, without reaching the adapter
        started = time.monotonic()
        with pytest.raises(AdapterTimeout, match="not attempted.*session.fetch"):
            session.fetch("p2")
        with pytest.raises(AdapterTimeout, match="not attempted"):
            guarded.describe()
        with pytest.raises(AdapterTimeout, match="not attempted"):
            guarded.login("hp")
        assert time.monotonic() - started < 0.2
        assert inner.session.calls == 1
        # the next check (the plugin resets the trip): calls reach the adapter again
        guarded.reset_trip()
        release.set()
        assert guarded.login("hp").fetch("p3") == "late"
        assert inner.session.calls == 2
    finally:
        release.set()


def test_a_timeout_is_an_error_not_a_contract_answer() -> None:
    assert issubclass(AdapterTimeout, AdapterError)
    assert not issubclass(AdapterTimeout, (AssertionError, Denied, Rejected, NotFound, NotSupported))


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(2), GeneratorExit()],
                         ids=lambda e: type(e).__name__)
def test_requests_to_stop_propagate_unchanged(exc: BaseException) -> None:
    guarded = GuardedAdapter(_Adapter(_raises(exc)), timeout=5)
    with pytest.raises(type(exc)) as adapter_call:
        guarded.describe()
    assert adapter_call.value is exc
    with pytest.raises(type(exc)):
        guarded.login("hp").fetch("p1")
