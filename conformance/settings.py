"""Hypothesis settings for conformance runs: reproducible certification, wider exploration.

Why: a certificate must come out the same when the same SUT is checked again, and a
report must say how it was generated. Two profiles are registered:

* ``certification`` (default of ``conformance run``): ``derandomize=True`` (every check's
  examples come from a seed derived from the check itself, so two runs of the same harness
  version generate identical inputs), no example database (nothing read from or written to
  disk between runs), no deadline (a slow SUT is not a failure here; timeouts are the
  adapter guard's job), one bug per check (``report_multiple_bugs=False``), and
  :data:`CERTIFICATION_EXAMPLES` examples per property, sized for CI.
* ``explore`` (``conformance run --explore``): more examples, a seed that is random unless
  given, recorded in the report; ``--explore`` with the same seed reproduces the run.

The plugin calls :func:`activate` once (in ``pytest_configure``, before test modules are
imported) and stores the returned dict in the report (``seed``, ``profile``, ``max_examples``).
Checks that need more or fewer examples than the default write
``@settings(max_examples=examples(n))``: ``n`` is the certification count and is scaled up in
explore mode. :class:`ExampleScope` keeps the evidence of the last example only (the minimal
falsifying example, when a check fails) and records how many examples ran.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, settings

from conformance.errors import UsageError

CERTIFICATION = "certification"
EXPLORE = "explore"

#: Examples per property in a certification run (CI-sized: each example talks to the SUT).
CERTIFICATION_EXAMPLES = 20
#: How much wider --explore searches.
EXPLORE_FACTOR = 10

#: Environment variables read by :func:`activate` when its arguments are not given, so that
#: a run can be pinned without touching the command line (e.g. in CI).
ENV_SEED = "CONFORMANCE_SEED"
ENV_EXAMPLES = "CONFORMANCE_MAX_EXAMPLES"
#: "0" turns hypothesis shrinking off: the same verdicts sooner, with the failing example as found
#: (unshrunk) as evidence. For CI gates and the harness's own mutant catalogue, never the default.
ENV_SHRINK = "CONFORMANCE_SHRINK"

_SUPPRESSED = [
    HealthCheck.function_scoped_fixture,  # checks use per-check fixtures (evidence, new_patient) on purpose
    HealthCheck.too_slow,  # the SUT is slow by nature; deadlines are the guard's job
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,  # a whole FHIR document is a large "simplest" example
]

_PHASES = (Phase.explicit, Phase.generate, Phase.target, Phase.shrink)

_active: dict[str, Any] = {}


def _shrink_wanted() -> bool:
    value = os.environ.get(ENV_SHRINK, "1").strip().lower()
    if value not in ("0", "1", "no", "yes", "false", "true", ""):
        raise UsageError(f"${ENV_SHRINK}={value!r}: use 0 (no shrinking) or 1 (shrink, the default)")
    return value not in ("0", "no", "false")


def _register(max_examples: int) -> None:
    phases = _PHASES if _shrink_wanted() else tuple(p for p in _PHASES if p is not Phase.shrink)
    settings.register_profile(
        CERTIFICATION,
        derandomize=True,
        database=None,
        deadline=None,
        report_multiple_bugs=False,
        max_examples=max_examples,
        suppress_health_check=_SUPPRESSED,
        phases=phases,
        print_blob=True,
    )
    settings.register_profile(
        EXPLORE,
        derandomize=False,
        database=None,
        deadline=None,
        report_multiple_bugs=False,
        max_examples=max_examples * EXPLORE_FACTOR,
        suppress_health_check=_SUPPRESSED,
        phases=phases,
        print_blob=True,
    )


def _int_from(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a whole number, got {value!r}") from None
    if number < 0:
        raise UsageError(f"{what} must be >= 0, got {number}")
    return number


def activate(*, explore: bool = False, seed: int | str | None = None,
             max_examples: int | None = None) -> dict[str, Any]:
    """Register and load the settings profile; return what the report must record.

    certification: derandomized; a ``seed`` given here (or in $CONFORMANCE_SEED) replaces the
    per-check derived seeds by that one seed (still deterministic, recorded as such).
    explore: random seed unless given; recorded so ``--explore`` with that seed reproduces the run.
    """
    seed_value = _int_from(seed if seed is not None else os.environ.get(ENV_SEED), "the hypothesis seed")
    base = _int_from(max_examples if max_examples is not None else os.environ.get(ENV_EXAMPLES),
                     "the number of examples")
    base = CERTIFICATION_EXAMPLES if base is None else base
    if base < 1:
        raise UsageError("the number of examples must be at least 1")
    _register(base)
    profile = EXPLORE if explore else CERTIFICATION
    settings.load_profile(profile)
    if explore and seed_value is None:
        seed_value = secrets.randbelow(2**32)
    if seed_value is not None:
        if not explore:
            # an explicit seed in certification mode: one recorded seed instead of per-check digests
            settings.register_profile(CERTIFICATION, settings.get_profile(CERTIFICATION), derandomize=False)
            settings.load_profile(CERTIFICATION)
        _force_seed(seed_value)
    else:
        _force_seed(None)
    active = settings.default
    info: dict[str, Any] = {
        "profile": profile,
        "seed": seed_value if seed_value is not None else "derandomized",
        "derandomize": active.derandomize,
        "max_examples": active.max_examples,
        "database": None,
        "deadline": None,
        "report_multiple_bugs": active.report_multiple_bugs,
        "shrink": Phase.shrink in active.phases,
        "hypothesis": hypothesis.__version__,
    }
    _active.clear()
    _active.update(info)
    return dict(info)


def save_state() -> tuple[Any, ...]:
    """Hypothesis's global settings state (active profile, registered profiles, forced seed) and ours.

    The plugin saves it before :func:`activate` and gives it back at the end of its session
    (:func:`restore_state`), so a conformance session run inside another program (pytester, an
    in-process `conformance run`, a vendor's own test session) leaves that program's hypothesis
    settings as they were."""
    from hypothesis import core
    from hypothesis._settings import default_variable

    return (settings._current_profile, default_variable.value, dict(settings._profiles),  # type: ignore[attr-defined]
            core.global_force_seed, dict(_active))


def restore_state(state: tuple[Any, ...]) -> None:
    from hypothesis import core
    from hypothesis._settings import default_variable

    current, value, profiles, seed, active = state
    settings._profiles.clear()  # type: ignore[attr-defined]
    settings._profiles.update(profiles)  # type: ignore[attr-defined]
    settings._current_profile = current  # type: ignore[attr-defined]
    default_variable.value = value
    core.global_force_seed = seed
    _active.clear()
    _active.update(active)


def _force_seed(seed: int | None) -> None:
    """Give every non-derandomized test the same seed: the mechanism behind hypothesis's own
    ``--hypothesis-seed`` pytest option (hypothesis.core.global_force_seed)."""
    from hypothesis import core

    core.global_force_seed = seed


def examples(n: int) -> int:
    """Examples for a property whose certification count is ``n`` (scaled in explore mode)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise UsageError(f"examples(n) needs a positive whole number, got {n!r}")
    if _active.get("profile") == EXPLORE:
        return n * EXPLORE_FACTOR
    return n


class ExampleScope:
    """Per-check bookkeeping for a hypothesis property that writes evidence.

    Hypothesis calls the check body once per example with the *same* ``evidence`` recorder, and
    replays the minimal falsifying example last. ``with scope.example(**inputs):`` drops the
    evidence of earlier examples, records the inputs of this one, and on failure marks them as
    the falsifying example; so after the run the evidence holds the last example (the minimal
    reproducer when the check failed) plus a count of the examples that ran.
    """

    def __init__(self, evidence: Any, prop: str) -> None:
        self.evidence = evidence
        self.prop = prop
        self.count = 0
        self._base = len(getattr(evidence, "items", []))

    @contextmanager
    def example(self, **inputs: Any) -> Iterator[None]:
        items = getattr(self.evidence, "items", None)
        if items is not None:
            del items[self._base:]
        self.count += 1
        self.evidence.add("hypothesis", {"property": self.prop, "examples_run": self.count,
                                         "settings": {k: _active.get(k) for k in ("profile", "seed", "max_examples")}})
        try:
            yield
        except AssertionError as failure:
            self.evidence.add("falsifying-example", {"property": self.prop, "inputs": inputs,
                                                     "failure": str(failure)[:2000]})
            raise


def example_scope(evidence: Any, prop: str) -> ExampleScope:
    """The :class:`ExampleScope` of property ``prop`` for this check's evidence recorder
    (created on first use, then shared by every example hypothesis runs)."""
    scopes = evidence.__dict__.setdefault("_example_scopes", {})
    if prop not in scopes:
        scopes[prop] = ExampleScope(evidence, prop)
    return scopes[prop]
