"""Every requirement check can fail: each deliberately broken EHR is caught by the right
requirement and by nothing else.

A few mutants cannot help breaking a second requirement by nature (tests/mutants COLLATERAL
lists each with its reason, e.g. a time without offset is no valid FHIR instant either).

Runs the whole shipped suite (`conformance run` in this process, tests/mutants/runner.py; profile
ehds-core, or the one PROFILE_FOR names for a mutant of a national requirement) against each mutant of the catalogue (tests/mutants/__init__.py).
A mutant breaking requirement R must give R the verdict `fail` and no other requirement `fail` or
`error`. The crashing and hanging mutants must give `error` verdicts (never `fail`) and the run must
complete.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutants import COLLATERAL, ERROR_MUTANTS, ERRORS_EXPECTED, MUTANTS, PROFILE_FOR
from tests.mutants.runner import run_report, verdicts_of


def run_against(factory: str, report_dir: Path, *extra: str) -> dict[str, str]:
    return verdicts_of(run_report(factory, report_dir, *extra))


@pytest.mark.parametrize("name", sorted(set(MUTANTS) - ERROR_MUTANTS))
def test_mutant_is_caught_by_its_requirement_only(name: str, tmp_path: Path) -> None:
    mutant = MUTANTS[name]
    profile = ("--profile", PROFILE_FOR[name]) if name in PROFILE_FOR else ()
    verdicts = run_against(mutant.factory, tmp_path, *profile)
    assert verdicts[mutant.requirement] == "fail", (
        f"{name} ({mutant.description}) was not caught: {mutant.requirement} is {verdicts[mutant.requirement]}")
    allowed = {mutant.requirement, *COLLATERAL.get(name, {})}
    collateral = {rid: v for rid, v in verdicts.items() if v in ("fail", "error") and rid not in allowed}
    assert not collateral, f"{name} also made other requirements {collateral}: the checks are not specific"


#: Each check that calls the hung method waits this long once (the guard then refuses that check's further
#: calls). Short on purpose: a call of a healthy method that is slow under load can only turn into an `error`,
#: which these assertions allow; never into a `fail` or a missing pass.
HUNG_CALL_TIMEOUT = "0.3"


@pytest.mark.parametrize("name", sorted(ERROR_MUTANTS))
def test_crashing_or_hanging_adapter_gives_errors_not_a_crashed_run(name: str, tmp_path: Path) -> None:
    # the short deadline is for the hanging mutants; a mutant that errors by its answers keeps the default, so
    # its exact set of errors cannot come from a slow healthy call
    timeout = () if name in ERRORS_EXPECTED else ("--adapter-timeout", HUNG_CALL_TIMEOUT)
    profile = ("--profile", PROFILE_FOR[name]) if name in PROFILE_FOR else ()
    report = run_report(MUTANTS[name].factory, tmp_path, *timeout, *profile)
    verdicts = verdicts_of(report)
    errors = sorted(rid for rid, v in verdicts.items() if v == "error")
    fails = sorted(rid for rid, v in verdicts.items() if v == "fail")
    assert errors, f"{name}: no requirement got an error verdict"
    if name in ERRORS_EXPECTED:
        assert set(errors) == ERRORS_EXPECTED[name], (
            f"{name}: errors in {errors}, expected {sorted(ERRORS_EXPECTED[name])}")
    assert not fails, f"{name}: a broken adapter call was reported as non-conformance of {fails}"
    passed = {c["name"] for row in report["requirements"] for c in row["checks"] if c["verdict"] == "pass"}
    assert passed, f"{name}: checks that do not touch the broken call must still pass"
