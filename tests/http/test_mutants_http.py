"""The security and logging mutants of the broken-EHR catalogue (tests/mutants) as SERVER-side
faults: each broken ReferenceEHR subclass is served over HTTPS by the real FHIR server, the
harness reaches it only through the `fhir` adapter, and the requirement the mutant breaks must
fail — the fault is caught over HTTP, not only in process.

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
from tests.http.conftest import check_verdicts, conformance_run, verdicts
from tests.mutants import MUTANTS

SECURITY_AND_LOGGING = sorted(name for name, m in MUTANTS.items()
                              if m.requirement and m.requirement.startswith(("EHDS-SEC-", "EHDS-LOG-")))


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
        _, report = conformance_run(running.sut_file, tmp_path / "report", "-k", " or ".join(names))
    finally:
        running.stop()
    assert "http" in report["sut"]["capabilities"] and service_class.__name__ in report["sut"]["product"]
    got = verdicts(report)[mutant.requirement]
    assert got == "fail", (f"{name} ({mutant.description}) served over HTTP was not caught: {mutant.requirement} "
                           f"is {got}; checks: {check_verdicts(report)}")
