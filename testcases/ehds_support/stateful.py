"""Running the area machines for the per-requirement checks (testcases/stateful/).

Each area machine runs ONCE per run (record mode, cached on the pytest config), checking every
invariant of its requirements after every step and recording the first violation of each. The
check of requirement R then reads the record: no violation -> pass (evidence: how many sequences
and steps); a violation -> the machine runs again focused on R alone, so hypothesis shrinks the
sequence to the shortest one that still breaks R; the check fails with that sequence and the
command that replays it. Certification runs are derandomized (the same sequences every run);
``--explore`` runs ten times as many sequences.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from conformance.adapter import PRIORITY_CATEGORIES
from conformance.checks import inconclusive
from conformance.settings import examples
from ehds_support.areas import AREAS
from ehds_support.machine import Context, EhrMachine, Recorder, StepFailure

#: (sequences per certification run, steps per sequence) by area; --explore multiplies sequences by 10.
SIZES: dict[str, tuple[int, int]] = {
    "access-log": (5, 20),
    "restriction": (5, 20),
    "identity": (6, 20),
    "export": (3, 8),
}

_RUNS = pytest.StashKey[dict[str, Any]]()
_CATEGORIES = ("patient-summary", "laboratory", "discharge", "eprescription")


def _settings(area: str) -> settings:
    n, steps = SIZES[area]
    return settings(settings.default, max_examples=examples(n), stateful_step_count=steps)


def _context(sut: Any, accounts: Any, new_patient: Any, documents: Any, description: Any,
             focus: str | None) -> Context:
    consumed = set(description.consumes) & set(description.produces) & set(PRIORITY_CATEGORIES)
    cats = tuple(c for c in _CATEGORIES if c in consumed) or ("patient-summary",)
    return Context(sut, accounts, new_patient, documents, cats, frozenset(description.capabilities), focus,
                   Recorder())


#: Shrinking replays sequences against the SUT; a failing requirement's check stops shrinking after this
#: long and reports the shortest sequence found so far (hypothesis's own limit is 300 s).
SHRINK_SECONDS = 20


@contextmanager
def _shrink_limit(seconds: int) -> Iterator[None]:
    from hypothesis.internal.conjecture import engine

    saved = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if saved is not None:
        engine.MAX_SHRINKING_SECONDS = seconds
    try:
        yield
    finally:
        if saved is not None:
            engine.MAX_SHRINKING_SECONDS = saved


def _run(area: str, ctx: Context) -> None:
    machine = type(AREAS[area].__name__, (AREAS[area],), {"ctx": ctx})
    with _shrink_limit(SHRINK_SECONDS):
        run_state_machine_as_test(machine, settings=_settings(area))


def _record(request: pytest.FixtureRequest, area: str, ctx: Context) -> Recorder | BaseException:
    runs = request.config.stash.setdefault(_RUNS, {})
    if area not in runs:
        try:
            _run(area, ctx)
            runs[area] = ctx.recorder
        except Exception as exc:  # noqa: BLE001 - a SUT crash: every check of the area gets the error
            runs[area] = exc
    return runs[area]


def replay_command(request: pytest.FixtureRequest) -> str:
    config = request.config
    args = ["conformance", "run", "--adapter", config.getoption("--conformance-adapter") or "reference"]
    profile = config.getoption("--conformance-profile")
    if profile:
        args += ["--profile", str(profile)]
    namespace = config.getoption("--conformance-patient-namespace") or getattr(
        config, "_conformance_patient_namespace", None)
    if namespace:
        args += ["--patient-namespace", str(namespace)]
    from hypothesis import core

    seed = config.getoption("--conformance-seed") or getattr(core, "global_force_seed", None)
    if config.getoption("--conformance-explore"):
        args += ["--explore"]
    if seed is not None:
        args += ["--seed", str(seed)]
    args += ["-k", request.node.name]
    return shlex.join(args)


def certify(request: pytest.FixtureRequest, area: str, requirement: str, *, sut: Any, accounts: Any,
            new_patient: Any, documents: Any, sut_description: Any, evidence: Any) -> None:
    """Decide `requirement` from the `area` machine (see the module docstring)."""
    machine: type[EhrMachine] = AREAS[area]
    assert requirement in machine.requirements, f"harness error: {area} does not judge {requirement}"
    outcome = _record(request, area, _context(sut, accounts, new_patient, documents, sut_description, None))
    if isinstance(outcome, BaseException):
        raise outcome
    rec = outcome
    evidence.note(f"{area} machine: {rec.examples} sequences, {rec.steps} steps; invariants of {requirement} "
                  f"checked {rec.checked[requirement]} times")
    if requirement not in rec.violations:
        if "*" in rec.blocked:
            inconclusive(rec.blocked["*"])
        if not rec.checked[requirement]:
            inconclusive(rec.blocked.get(requirement, f"no sequence of the {area} machine reached an invariant "
                                                      f"of {requirement}"))
        return
    message, steps = rec.violations[requirement]
    focused = _context(sut, accounts, new_patient, documents, sut_description, requirement)
    replay = replay_command(request)
    try:
        _run(area, focused)
    except StepFailure as failure:
        evidence.add("falsifying-sequence", {"requirement": requirement, "steps": focused.recorder.last_steps,
                                             "shrunk": True, "replay": replay})
        raise AssertionError(f"{failure}\nreplay: {replay}") from None
    evidence.add("falsifying-sequence", {"requirement": requirement, "steps": steps, "shrunk": False,
                                         "replay": replay})
    raise AssertionError(f"{message}\nafter the steps (not reproduced when shrinking):\n"
                         + "\n".join(f"  {i}. {s}" for i, s in enumerate(steps, 1)) + f"\nreplay: {replay}")
