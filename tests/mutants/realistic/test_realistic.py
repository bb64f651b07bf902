"""Every realistic vendor bug is caught by exactly the requirement it breaks.

Fast (default): one mutant per requirement (the first by name) runs in this process against the
checks of its requirement's area (the stateful machine that judges it, or the retention check),
~5-10 s each; its requirement must fail and no other requirement of that selection may fail or
error. With ``--run-slow`` every mutant does.

Slow (``--run-slow``): the whole ehds-core profile against each mutant, as a certification would;
its requirement fails and nothing else fails or errors (the precise kill rate of measure.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutants.realistic import REALISTIC
from tests.mutants.realistic.measure import judge, verdicts

#: the checks that judge each requirement (pytest -k expressions over the shipped check names)
_AREA_OF = {
    "EHDS-LOG-010": "test_access_information_is_kept_three_years",
    "EHDS-SEC-007": "test_restriction_sequences", "EHDS-SEC-008": "test_restriction_sequences",
    "EHDS-LOG-012": "test_restriction_sequences", "EHDS-INT-003": "test_restriction_sequences",
    "EHDS-INT-004": "test_restriction_sequences",
    "EHDS-INT-002": "test_identity_sequences", "EHDS-INT-008": "test_identity_sequences",
    "EHDS-INT-011": "test_export_sequences",
}


def _selection(requirement: str) -> str:
    return _AREA_OF.get(requirement, "test_access_log_sequences")


def _one_per_requirement() -> list[str]:
    first: dict[str, str] = {}
    for name in sorted(REALISTIC):
        first.setdefault(str(REALISTIC[name].requirement), name)
    return sorted(first.values())


FAST = _one_per_requirement()


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in sorted(REALISTIC)])
def test_realistic_mutant_fails_its_requirement_in_its_area(name: str, tmp_path: Path) -> None:
    mutant = REALISTIC[name]
    found = verdicts(mutant.factory, tmp_path, "-k", _selection(str(mutant.requirement)))
    row = judge(str(mutant.requirement), found)
    assert row["by_requirement"], f"{name} ({mutant.description}) is not caught: {mutant.requirement} is " \
                                  f"{found.get(str(mutant.requirement))}"
    assert row["precise"], f"{name} also fails {row['failing']}: the checks are not specific"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_realistic_mutant_is_caught_precisely_by_the_whole_profile(name: str, tmp_path: Path) -> None:
    mutant = REALISTIC[name]
    row = judge(str(mutant.requirement), verdicts(mutant.factory, tmp_path))
    assert row["precise"], f"{name} ({mutant.description}): failing {row['failing']}, " \
                           f"expected exactly {mutant.requirement}"
