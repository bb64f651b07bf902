"""End-to-end tests of the pytest plugin with pytester: markers, deselection,
not-applicable, fail vs error, hung adapters, one verdict per requirement."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.commands.run import ResultSink
from conformance.model import Verdict, combine

TOY = Path(__file__).with_name("toy_adapter.py").read_text()

CHECKS = '''
import pytest
from conformance.adapter import Capability, Denied

@pytest.mark.requirement("EHDS-SEC-006")
def test_passes(sut, accounts):
    with pytest.raises(Denied):
        sut.login(accounts.anonymous)

@pytest.mark.requirement("EHDS-LOG-001")
def test_fails(sut, accounts):
    assert False, "the SUT forgot something"

@pytest.mark.requirement("EHDS-INT-012")
def test_adapter_crash_is_error(sut, accounts):
    sut.login(accounts.hp).submit({})

@pytest.mark.requirement("EHDS-INT-004")
def test_adapter_hang_is_error(sut, accounts):
    sut.login(accounts.hp).fetch("p", "patient-summary")

@pytest.mark.requirement("EHDS-SEC-008")
@pytest.mark.capability(Capability.EMERGENCY_ACCESS)
def test_not_declared(sut):
    raise AssertionError("must not run")

@pytest.mark.requirement("EHDS-SEC-001")
@pytest.mark.capability(Capability.HTTP)
def test_excluded_by_the_profile(sut):
    raise AssertionError("must not run")

@pytest.mark.requirement("PS-001")
def test_other_profile(sut):
    raise AssertionError("must be deselected under ehds-core")
'''


def _run(pytester: pytest.Pytester, mode: str, *extra: str):
    pytester.makepyfile(toy_adapter=TOY)
    pytester.makefile(".toml", sut=f'mode = "{mode}"\n')
    pytester.makepyfile(test_checks=CHECKS)
    sink = ResultSink()
    result = pytester.runpytest("-p", "conformance.pytest_plugin", "--conformance-adapter", "toy_adapter:create",
                                "--conformance-adapter-config", "sut.toml", "--conformance-adapter-timeout", "1",
                                "-p", "no:randomly", *extra, plugins=[sink])
    return result, sink.result


def _verdicts(run) -> dict[str, Verdict]:
    return {row.requirement.id: row.verdict for row in run.requirements}


def test_fail_error_pass_not_applicable_not_tested(pytester: pytest.Pytester) -> None:
    _, run = _run(pytester, "crash")
    assert run is not None
    v = _verdicts(run)
    assert v["EHDS-SEC-006"] is Verdict.PASS
    assert v["EHDS-LOG-001"] is Verdict.FAIL
    assert v["EHDS-INT-012"] is Verdict.ERROR  # adapter crash: error, not fail
    assert v["EHDS-SEC-001"] is Verdict.NOT_APPLICABLE  # http: an exclusion ehds-core allows (SCOPE-IN-PROCESS)
    assert v["EHDS-SEC-008"] is Verdict.FAIL  # emergency access is mandatory: cannot be declared away
    sec8 = next(r for r in run.requirements if r.requirement.id == "EHDS-SEC-008")
    assert "SCOPE-EMERGENCY" in sec8.checks[0].message and "Art 11(5)" in sec8.checks[0].message
    assert v["EHDS-LOG-002"] is Verdict.NOT_TESTED  # no check at all
    assert "PS-001" not in v  # not in the active profile
    ids = [row.requirement.id for row in run.requirements]
    assert len(ids) == len(set(ids)) == len(run.profile.requirements)


def test_hanging_adapter_gives_error_and_the_run_goes_on(pytester: pytest.Pytester) -> None:
    _, run = _run(pytester, "hang")
    v = _verdicts(run)
    assert v["EHDS-INT-004"] is Verdict.ERROR
    row = next(r for r in run.requirements if r.requirement.id == "EHDS-INT-004")
    assert "did not return within" in row.checks[0].message
    assert v["EHDS-SEC-006"] is Verdict.PASS


def test_unknown_requirement_id_is_a_usage_error_with_suggestion(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_typo='''
import pytest
@pytest.mark.requirement("EHDS-LOG-0O1")
def test_x():
    pass
''')
    result = pytester.runpytest("-p", "conformance.pytest_plugin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown requirement id 'EHDS-LOG-0O1'*did you mean 'EHDS-LOG-001'*"])


def test_precedence() -> None:
    assert combine([Verdict.PASS, Verdict.ERROR, Verdict.FAIL]) is Verdict.FAIL
    assert combine([Verdict.PASS, Verdict.ERROR]) is Verdict.ERROR
    assert combine([Verdict.NOT_APPLICABLE, Verdict.PASS]) is Verdict.PASS
    assert combine([Verdict.NOT_TESTED, Verdict.NOT_APPLICABLE]) is Verdict.NOT_APPLICABLE
    assert combine([]) is Verdict.NOT_TESTED


def test_unmarked_tests_are_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1\n")
    sink = ResultSink()
    result = pytester.runpytest("-p", "conformance.pytest_plugin", plugins=[sink])
    result.assert_outcomes(passed=1)
    assert sink.result is None


HONEST = '''
import pytest
from conformance.adapter import Rejected

@pytest.mark.requirement("EHDS-INT-012")
def test_sut_accepts_what_it_must_refuse(sut, accounts):
    with pytest.raises(Rejected):
        sut.login(accounts.hp).submit({"not": "a document"})

@pytest.mark.requirement("EHDS-LOG-001")
def test_setup_document_rejected(sut, accounts):
    raise Rejected("names outside Latin-1 are not supported")

@pytest.mark.requirement("EHDS-LOG-002")
def test_bug_in_the_check_itself(sut):
    {}["missing"]
'''


def test_verdict_path_is_honest(pytester: pytest.Pytester) -> None:
    """pytest.raises seeing nothing is a fail (the SUT accepted what it must refuse); a contract answer the
    check did not expect leaves it inconclusive; a bug in the check is an error, never a fail."""
    pytester.makepyfile(toy_adapter=TOY)
    pytester.makefile(".toml", sut='mode = "ok"\n')
    pytester.makepyfile(test_checks=HONEST)
    sink = ResultSink()
    pytester.runpytest("-p", "conformance.pytest_plugin", "--conformance-adapter", "toy_adapter:create",
                       "--conformance-adapter-config", "sut.toml", plugins=[sink])
    v = _verdicts(sink.result)
    assert v["EHDS-INT-012"] is Verdict.FAIL
    assert v["EHDS-LOG-001"] is Verdict.NOT_TESTED
    row = next(r for r in sink.result.requirements if r.requirement.id == "EHDS-LOG-001")
    assert "inconclusive" in row.reason and "Latin-1" in row.reason
    assert v["EHDS-LOG-002"] is Verdict.ERROR
