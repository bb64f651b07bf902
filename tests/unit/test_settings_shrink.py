"""$CONFORMANCE_SHRINK=0 drops hypothesis's shrink phase (and says so in the recorded settings);
anything but a yes/no value is a usage error naming the variable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import Phase, settings

from conformance import settings as conf_settings
from conformance.errors import UsageError


@pytest.fixture(autouse=True)
def _give_back() -> Iterator[None]:
    state = conf_settings.save_state()
    yield
    conf_settings.restore_state(state)


def test_shrinking_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFORMANCE_SHRINK", raising=False)
    info = conf_settings.activate()
    assert info["shrink"] is True and Phase.shrink in settings.default.phases


def test_shrink_zero_drops_only_the_shrink_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_SHRINK", "0")
    info = conf_settings.activate()
    assert info["shrink"] is False
    assert Phase.shrink not in settings.default.phases and Phase.generate in settings.default.phases


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_SHRINK", "maybe")
    with pytest.raises(UsageError, match=r"\$CONFORMANCE_SHRINK='maybe'"):
        conf_settings.activate()
