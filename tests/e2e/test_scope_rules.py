"""Applicability is the profile's call: a system cannot come out conformant by declaring capabilities away.

The dict-backed EHR (tests/e2e/dict_ehr.py) declares only format:fhir, submit and export. ehds-core's
scope rules make the logging component, restriction, emergency access, patient access and full export
mandatory for a system in scope, so every check needing them fails with the rule and its reference,
on the terminal and in the report; the run is non-conformant whatever is attested.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_run_cli import conformance

ATTEST_EVERYTHING = """\
attestations:
{entries}
"""


def _attest_all(path: Path) -> Path:
    from conformance.profiles import load_profile

    entries = "\n".join(
        f"  - requirement: {r.id}\n    who: Trust Me (test)\n    role: CEO\n    when: 2026-12-01\n"
        f"    statement: trust me\n    evidence:\n      reference: none" for r in load_profile("ehds-core").requirements)
    target = path / "attest.yaml"
    target.write_text(ATTEST_EVERYTHING.format(entries=entries))
    return target


def test_declaring_capabilities_away_is_not_conformant(tmp_path: Path) -> None:
    result = conformance("run", "--adapter", "tests.e2e.dict_ehr:create", "--report-dir", "reports",
                         "--run-id", "dict", "--strict", cwd=tmp_path)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    assert "conformance: non-conformant (exit 1, strict)" in result.stdout
    assert "SCOPE-LOGGING" in result.stdout  # the reason is on the terminal
    report = json.loads((tmp_path / "reports" / "dict" / "report.json").read_text())
    rows = {row["id"]: row for row in report["requirements"]}
    logging = [r for r in rows.values() if r["category"] == "logging" and r["level"] == "SHALL"]
    failed_on_scope = [r for r in logging if r["verdict"] == "fail"
                       and any("SCOPE-LOGGING" in c["message"] for c in r["checks"])]
    assert len(failed_on_scope) >= 8, [(r["id"], r["verdict"]) for r in logging]
    assert not [r["id"] for r in logging if r["verdict"] == "not-applicable"], "logging declared away"
    assert rows["EHDS-SEC-007"]["verdict"] == "fail"  # restriction is mandatory (Art 8)
    message = next(c["message"] for c in rows["EHDS-SEC-007"]["checks"] if c["verdict"] == "fail")
    assert "SCOPE-RESTRICTION" in message and "Art 8" in message
    assert "password" not in result.stdout.lower() or "dict-ehr-sandbox-pw" not in result.stdout


def test_attesting_everything_does_not_make_it_conformant(tmp_path: Path) -> None:
    attest = _attest_all(tmp_path)
    result = conformance("run", "--adapter", "tests.e2e.dict_ehr:create", "--report-dir", "reports",
                         "--run-id", "attested", "--attestations", str(attest), cwd=tmp_path)
    assert result.returncode != 0, result.stdout[-3000:]
    # attesting requirements that have automated checks is refused, naming the entry and the check
    assert "refused" in result.stderr and "automated check" in result.stderr, result.stderr[-2000:]
    assert " conformant" not in result.stdout.replace("non-conformant", "")
