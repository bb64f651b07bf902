"""The security and logging mutants of the broken-EHR catalogue (tests/mutants), and the consent
mutants of the Sesali one (tests/mutants/sesali, FR-003), as SERVER-side faults: each broken
ReferenceEHR subclass is served over HTTPS by the real FHIR server, the harness reaches it only
through the `fhir` adapter, and the requirement the mutant breaks must fail — the fault is caught
over HTTP, not only in process.

Only the checks of the broken requirement run (selected by their requirement markers), to keep
this affordable; tests/mutants/test_catalogue.py runs the whole suite in process.
"""

from __future__ import annotations

import ast
from functools import cache

import pytest

from conformance import resources
from conformance.commands.serve import load_service_class
from conformance.server.launch import start_sandbox
from tests.http.conftest import check_verdicts, verdicts
from tests.mutants import MUTANTS
from tests.mutants.runner import run_report
from tests.mutants.sesali import MUTANTS as SESALI_MUTANTS

pytestmark = pytest.mark.usefixtures("verdicts_only")  # verdicts are asserted, not shrunk evidence

#: Faults on a read path the server does not route: the translated display is in process only (FR-004 is in
#: tests/http/test_same_verdicts.py's FR_IN_PROCESS_ONLY), so over HTTP its checks are not applicable.
NOT_SERVED = frozenset({"display_not_logged", "display_skips_authorization"})
SECURITY_AND_LOGGING = sorted(name for name, m in MUTANTS.items()
                              if m.requirement and m.requirement.startswith(("EHDS-SEC-", "EHDS-LOG-"))
                              and name not in NOT_SERVED)


def client_run(sut_file, report_dir, *args: str) -> dict:
    """`conformance run --adapter fhir` in this process (tests/mutants/runner.py), against the server this test
    started: the client reaches it only over HTTPS, as a vendor's would; in process it skips a cold start
    per mutant."""
    return run_report("fhir", report_dir, "--adapter-config", str(sut_file), *args, exit_codes=(0, 1))


@cache
def checks_by_requirement() -> dict[str, frozenset[str]]:
    """Requirement id -> names of the checks marked with it (read from the sources, not imported)."""
    found: dict[str, set[str]] = {}
    for path in resources.testcases_dir().rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "requirement":
                    for arg in deco.args:
                        rid = arg.value if isinstance(arg, ast.Constant) else constants.get(getattr(arg, "id", ""))
                        if isinstance(rid, str):
                            found.setdefault(rid, set()).add(node.name)
    return {rid: frozenset(names) for rid, names in found.items()}


def test_the_selection_covers_every_security_and_logging_mutant():
    assert len(SECURITY_AND_LOGGING) >= 12, SECURITY_AND_LOGGING
    missing = [n for n in SECURITY_AND_LOGGING if not checks_by_requirement().get(MUTANTS[n].requirement)]
    assert not missing, f"no check found for the requirement of {missing}"


@pytest.mark.parametrize("name", SECURITY_AND_LOGGING)
def test_server_side_fault_is_caught_over_http(name, tmp_path):
    mutant = MUTANTS[name]
    service_class = load_service_class(f"tests.mutants.{name}")
    names = sorted(checks_by_requirement()[mutant.requirement])
    running = start_sandbox(tmp_path / "box", service_class=service_class, validation="structural")
    try:
        assert type(running.service) is service_class
        report = client_run(running.sut_file, tmp_path / "report", "-k", " or ".join(names))
    finally:
        running.stop()
    assert "http" in report["sut"]["capabilities"] and service_class.__name__ in report["sut"]["product"]
    got = verdicts(report)[mutant.requirement]
    assert got == "fail", (f"{name} ({mutant.description}) served over HTTP was not caught: {mutant.requirement} "
                           f"is {got}; checks: {check_verdicts(report)}")


# ---- the consent (FR-003) served over HTTP ------------------------------------------------------

#: Consent faults a REST client cannot reach: FHIR addresses a consent by its id alone (``PUT Consent/<id>``),
#: so "a consent id given under another patient" exists only in the Python contract (the `fhir` adapter
#: itself compares Consent.patient with the patient named before it withdraws).
IN_PROCESS_ONLY = frozenset({"withdrawal_by_consent_id_only"})
CONSENT_MUTANTS = sorted(name for name, m in SESALI_MUTANTS.items()
                         if m.requirement == "FR-003" and name not in IN_PROCESS_ONLY)
#: the French requirements the server routes (the others are in process only, tests/http/test_same_verdicts.py)
SERVED_FRENCH = ("FR-001", "FR-003")


def test_every_consent_mutant_is_served_over_http():
    assert len(CONSENT_MUTANTS) >= 5, CONSENT_MUTANTS


@pytest.mark.parametrize("name", CONSENT_MUTANTS)
def test_consent_fault_is_caught_over_http_by_fr003_only(name, tmp_path):
    """A broken consent rule of the EHR, served over HTTPS and reached only through the `fhir` adapter's
    record_consent / withdraw_consent / fetch_for_purpose, fails FR-003 and no other French requirement
    the server offers."""
    mutant = SESALI_MUTANTS[name]
    service_class = load_service_class(f"tests.mutants.sesali.{name}")
    running = start_sandbox(tmp_path / "box", service_class=service_class, validation="structural")
    try:
        selection = [arg for rid in SERVED_FRENCH for arg in ("--requirement", rid)]
        report = client_run(running.sut_file, tmp_path / "report", "--profile", "fr-sesali", *selection)
    finally:
        running.stop()
    assert "consent" in report["sut"]["capabilities"] and service_class.__name__ in report["sut"]["product"]
    got = verdicts(report)
    assert got["FR-003"] == "fail", (f"{name} ({mutant.description}) served over HTTP was not caught: FR-003 is "
                                     f"{got['FR-003']}; checks: {check_verdicts(report)}")
    others = {rid: got[rid] for rid in SERVED_FRENCH if rid != "FR-003" and got[rid] != "pass"}
    assert not others, f"{name} also changed {others}: the checks are not specific"
