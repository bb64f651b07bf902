"""Every Sesali check can fail: each broken EHR (or client) of tests/mutants/sesali gives its own
French requirement the verdict ``fail`` and no other requirement ``fail`` or ``error``.

Each case is a full ``conformance run`` of the mutant's profile (about half a minute each).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutants.sesali import MUTANTS, PROFILE
from tests.mutants.test_catalogue import run_against


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_sesali_mutant_is_caught_by_its_requirement_only(name: str, tmp_path: Path) -> None:
    mutant = MUTANTS[name]
    verdicts = run_against(mutant.factory, tmp_path, "--profile", PROFILE.get(name, "fr-sesali"))
    assert verdicts[mutant.requirement] == "fail", (
        f"{name} ({mutant.description}) was not caught: {mutant.requirement} is {verdicts[mutant.requirement]}")
    others = {rid: v for rid, v in verdicts.items() if v in ("fail", "error") and rid != mutant.requirement}
    assert not others, f"{name} also made other requirements {others}: the checks are not specific"
