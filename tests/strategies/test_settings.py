"""conformance.settings: reproducible certification runs, seeded exploration, evidence scoping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import settings as conf
from conformance.errors import UsageError


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    previous = settings.default
    yield
    conf._force_seed(None)
    conf._active.clear()
    settings.register_profile("_restore", previous)
    settings.load_profile("_restore")


def _sample(n: int = 30) -> list[int]:
    seen: list[int] = []

    @settings(max_examples=n)
    @given(st.integers(0, 10**9))
    def prop(x: int) -> None:
        seen.append(x)

    prop()
    return seen


def test_certification_profile() -> None:
    info = conf.activate()
    assert info["profile"] == "certification" and info["seed"] == "derandomized"
    active = settings.default
    assert active.derandomize and active.database is None and active.deadline is None
    assert not active.report_multiple_bugs
    assert active.max_examples == conf.CERTIFICATION_EXAMPLES == info["max_examples"]
    assert conf.examples(5) == 5


def test_certification_is_reproducible() -> None:
    conf.activate()
    assert _sample() == _sample()


def test_explore_records_a_seed_and_reproduces_with_it() -> None:
    info = conf.activate(explore=True)
    assert isinstance(info["seed"], int)
    assert settings.default.max_examples == conf.CERTIFICATION_EXAMPLES * conf.EXPLORE_FACTOR
    assert conf.examples(5) == 5 * conf.EXPLORE_FACTOR
    first = _sample()
    conf.activate(explore=True, seed=info["seed"])
    assert _sample() == first
    conf.activate(explore=True, seed=info["seed"] + 1)
    assert _sample() != first


def test_certification_with_explicit_seed() -> None:
    info = conf.activate(seed=42)
    assert info["seed"] == 42 and info["derandomize"] is False
    a = _sample()
    conf.activate(seed=42)
    assert _sample() == a


def test_env_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(conf.ENV_EXAMPLES, "7")
    monkeypatch.setenv(conf.ENV_SEED, "9")
    info = conf.activate()
    assert info["max_examples"] == 7 and info["seed"] == 9
    with pytest.raises(UsageError, match="whole number"):
        conf.activate(seed="abc")
    with pytest.raises(UsageError, match="at least 1"):
        conf.activate(max_examples=0)
    with pytest.raises(UsageError):
        conf.examples(0)


class _Recorder:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, kind: str, data: dict) -> None:
        self.items.append({"kind": kind, **data})


def test_example_scope_keeps_the_minimal_failing_example() -> None:
    conf.activate()
    evidence = _Recorder()

    @given(st.integers(0, 1000))
    def prop(x: int) -> None:
        with conf.example_scope(evidence, "x-below-100").example(x=x):
            evidence.add("note", {"text": f"tried {x}"})
            assert x < 100, f"{x} is too big"

    with pytest.raises(AssertionError):
        prop()
    kinds = [i["kind"] for i in evidence.items]
    assert kinds == ["hypothesis", "note", "falsifying-example"]
    assert evidence.items[-1]["inputs"] == {"x": 100}  # shrunk to the boundary
    assert evidence.items[0]["examples_run"] > 1
