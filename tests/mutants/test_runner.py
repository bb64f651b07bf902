"""The in-process runner (tests/mutants/runner.py) leaves the outer test session as it found it.

The nested run loads the conformance plugin, which activates the derandomized 20-example
``certification`` hypothesis profile; this session's own hypothesis tests must keep their
profile, and the check modules the run imported must not linger for the next run to reuse.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import core, given, settings
from hypothesis import strategies as st

from conformance import resources
from conformance.settings import CERTIFICATION, CERTIFICATION_EXAMPLES
from tests.mutants.runner import run_report, verdicts_of

#: two quick checks, enough for a complete (partial) run through the plugin
SELECTION = "test_anonymous_access_is_refused or test_wrong_credentials_are_refused"


def _check_modules() -> set[str]:
    folder = resources.testcases_dir().resolve()
    return {name for name, module in list(sys.modules.items())
            if getattr(module, "__file__", None) and Path(module.__file__).resolve().is_relative_to(folder)}


def test_a_nested_run_leaves_the_outer_hypothesis_settings_alone(tmp_path: Path) -> None:
    profile, before, seed = settings.get_current_profile_name(), settings.default, core.global_force_seed
    assert profile != CERTIFICATION, "the outer session already runs under the certification profile"
    loaded = _check_modules()

    report = run_report("reference", tmp_path, "-k", SELECTION)

    assert verdicts_of(report)["EHDS-SEC-006"] == "pass"
    assert report["run"]["seed"] == "derandomized"  # the nested run did use the certification profile
    assert settings.get_current_profile_name() == profile
    assert settings.default == before and core.global_force_seed == seed
    assert _check_modules() == loaded, "check modules imported by the run stayed in sys.modules"

    calls: list[int] = []

    @given(st.integers())
    def prop(x: int) -> None:
        calls.append(x)

    prop()
    assert len(calls) > CERTIFICATION_EXAMPLES, (
        f"a hypothesis test after the nested run ran {len(calls)} examples: the certification profile leaked")
