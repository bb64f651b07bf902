"""The README's examples work: the check shown in "Writing a check" runs and passes against
the reference EHR, and fails against a mutant that breaks its requirement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.commands.run import ResultSink
from conformance.model import Verdict

README = Path(__file__).resolve().parents[2] / "README.md"


def _example_check() -> str:
    section = README.read_text(encoding="utf-8").split("## Writing a check", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README 'Writing a check' has no python example"
    return match.group(1)


@pytest.mark.parametrize(("adapter", "expected"), [
    ("reference", Verdict.PASS),
    ("tests.mutants.patient_cannot_read_own_log:create", Verdict.FAIL),
])
def test_readme_check_example(pytester: pytest.Pytester, adapter: str, expected: Verdict) -> None:
    pytester.makepyfile(test_example=_example_check())
    pytester.syspathinsert(str(README.parent))
    sink = ResultSink()
    pytester.runpytest("-p", "conformance.pytest_plugin", "--conformance-adapter", adapter, "-p", "no:cacheprovider",
                       plugins=[sink])
    result = sink.result
    assert result is not None
    row = next(r for r in result.requirements if r.requirement.id == "EHDS-LOG-009")
    assert row.verdict is expected, row.checks
