"""Attestations: only not-tested requirements become `attested`; never over fail/error; clear file errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.errors import UsageError
from conformance.model import Verdict
from conformance.report import load_report, write_reports
from conformance.report.attestations import load_attestations
from tests.report.samples import make_run


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "attestations.yaml"
    path.write_text(text)
    return path


def entry(rid: str, statement: str = "We ship it.") -> str:
    return f"  - requirement: {rid}\n    who: Jane Doe, QA\n    when: 2025-06-01\n    statement: {statement}\n"


@pytest.fixture
def attested_report(tmp_path: Path) -> dict:
    att = write(
        tmp_path,
        "attestations:\n"
        + entry("EHDS-GEN-001", "Instructions for use ship with every release (token=abc-def-123).")
        + entry("EHDS-LOG-002", "Logs always name the organisation.")  # failed by a check
        + entry("EHDS-INT-001")  # error
        + entry("EHDS-SEC-001")  # pass
        + entry("EHDS-INT-005")  # not-applicable
        + entry("EHDS-GEN-01")  # typo
        + "    evidence: docs/ifu/\n",
    )
    write_reports(make_run(), tmp_path / "out", attestations=att)
    return load_report(tmp_path / "out")


def rows(doc: dict) -> dict[str, dict]:
    return {r["id"]: r for r in doc["requirements"]}


def test_not_tested_becomes_attested(attested_report: dict) -> None:
    row = rows(attested_report)["EHDS-GEN-001"]
    assert row["verdict"] == "attested"
    assert row["reason"].startswith("attested by Jane Doe, QA on 2025-06-01 (not tested automatically: no check")
    assert row["attestations"][0]["status"] == "applied"
    assert row["attestations"][0]["source"] == "attestations.yaml:2"
    assert attested_report["summary"]["total"]["attested"] == 1
    assert attested_report["summary"]["total"]["pass"] == 3  # attested is not counted as pass


def test_attestation_never_overrides_fail_or_error(attested_report: dict) -> None:
    r = rows(attested_report)
    for rid, verdict in (("EHDS-LOG-002", "fail"), ("EHDS-INT-001", "error")):
        assert r[rid]["verdict"] == verdict
        assert r[rid]["attestations"][0]["status"] == "ignored"
        assert "never overrides" in r[rid]["attestations"][0]["why"]
    assert attested_report["summary"]["conclusion"] == "non-conformant"


def test_decided_verdicts_keep_the_attestation_alongside(attested_report: dict) -> None:
    r = rows(attested_report)
    assert r["EHDS-SEC-001"]["verdict"] == "pass"
    assert r["EHDS-INT-005"]["verdict"] == "not-applicable"
    assert {r["EHDS-SEC-001"]["attestations"][0]["status"], r["EHDS-INT-005"]["attestations"][0]["status"]} == {
        "recorded"
    }


def test_unknown_requirement_is_reported_with_suggestion(attested_report: dict) -> None:
    items = attested_report["attestations"]["items"]
    typo = next(a for a in items if a["requirement"] == "EHDS-GEN-01")
    assert typo["status"] == "ignored"
    assert "did you mean EHDS-GEN-001" in typo["why"]
    assert typo["evidence"] == "docs/ifu/"
    assert len(attested_report["attestations"]["sha256"]) == 64


def test_attestation_text_is_redacted(attested_report: dict) -> None:
    row = rows(attested_report)["EHDS-GEN-001"]
    assert "abc-def-123" not in row["attestations"][0]["statement"]


def test_attested_shall_completes_conformance(tmp_path: Path) -> None:
    fixed = {"EHDS-LOG-002": Verdict.PASS, "EHDS-INT-012": Verdict.PASS, "EHDS-INT-001": Verdict.PASS}
    write_reports(make_run(changes=fixed), tmp_path / "a")
    assert load_report(tmp_path / "a")["summary"]["conclusion"] == "incomplete"
    att = write(tmp_path, "attestations:\n" + entry("EHDS-GEN-001"))
    write_reports(make_run(changes=fixed), tmp_path / "b", attestations=att)
    assert load_report(tmp_path / "b")["summary"]["conclusion"] == "conformant"


def test_outputs_show_attested_apart_from_pass(tmp_path: Path) -> None:
    att = write(tmp_path, "attestations:\n" + entry("EHDS-GEN-001"))
    write_reports(make_run(), tmp_path / "o", attestations=att)
    junit = (tmp_path / "o" / "junit.xml").read_text()
    assert '<skipped message="attested: attested by Jane Doe, QA on 2025-06-01' in junit
    html = (tmp_path / "o" / "report.html").read_text()
    assert 'data-id="EHDS-GEN-001" data-verdict="attested"' in html
    assert "Attestation (applied)</strong> by Jane Doe, QA, 2025-06-01" in html
    md = (tmp_path / "o" / "summary.md").read_text()
    assert "Attested, not tested automatically (1)" in md


def test_a_list_at_top_level_is_accepted(tmp_path: Path) -> None:
    loaded = load_attestations(write(tmp_path, entry("EHDS-GEN-001").replace("  - ", "- ").replace("    ", "  ")))
    assert [i["requirement"] for i in loaded["items"]] == ["EHDS-GEN-001"]
    assert loaded["items"][0]["when"] == "2025-06-01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "attestations:\n  - requirement: X\n    who: a\n    when: 2025-01-01\n    statment: s\n",
            r"attestations.yaml:5: unknown field 'statment'\n  hint: did you mean 'statement'\?",
        ),
        (
            "attestations:\n  - requirement: X\n    who: a\n    statement: s\n",
            r"attestations.yaml:2: attestation is missing 'when'",
        ),
        (
            "attestations:\n  - requirement: X\n    who: a\n    when: last tuesday\n    statement: s\n",
            r"attestations.yaml:4: 'when' is not an ISO 8601 date: 'last tuesday'",
        ),
        (
            "attestations:\n  - requirement: X\n    who: ''\n    when: 2025-01-01\n    statement: s\n",
            r"attestations.yaml:3: 'who' is empty",
        ),
        (
            "attestations:\n  - requirement: [X, Y]\n    who: a\n    when: 2025-01-01\n    statement: s\n",
            r"attestations.yaml:2: 'requirement' must be a single value",
        ),
        ("attestation:\n  - requirement: X\n", r"attestations.yaml:1: unknown top-level key 'attestation'"),
        ("attestations: 3\n", r"attestations.yaml:1: expected a list of attestations"),
        ("attestations:\n  - just a string\n", r"attestations.yaml:2: an attestation must be a mapping"),
        ("", r"attestations.yaml: file is empty"),
        ("attestations: [\n", r"attestations.yaml: not valid YAML"),
    ],
)
def test_malformed_file_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_attestations(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read attestations file"):
        load_attestations(tmp_path / "none.yaml")


def test_attest_run_gives_the_verdicts_the_report_will_show(tmp_path: Path) -> None:
    from conformance.report.attestations import attest_run

    att = write(tmp_path, "attestations:\n" + entry("EHDS-GEN-001") + entry("EHDS-LOG-002"))
    run = make_run()
    attested = attest_run(run, att)
    verdicts = {r.requirement.id: r.verdict for r in attested.requirements}
    assert verdicts["EHDS-GEN-001"] is Verdict.ATTESTED
    assert verdicts["EHDS-LOG-002"] is Verdict.FAIL  # never over a failure
    assert run.requirements[7].verdict is Verdict.NOT_TESTED  # the input is not changed
    # the attested RunResult and the file together give the same report as the plain run and the file
    write_reports(attested, tmp_path / "a", formats=("json",), attestations=att)
    write_reports(run, tmp_path / "b", formats=("json",), attestations=att)
    a, b = load_report(tmp_path / "a"), load_report(tmp_path / "b")
    assert [r["verdict"] for r in a["requirements"]] == [r["verdict"] for r in b["requirements"]]
    assert rows(a)["EHDS-GEN-001"]["attestations"][0]["who"] == "Jane Doe, QA"


def test_attested_verdict_without_a_file_is_not_trusted(tmp_path: Path) -> None:
    run = make_run()
    run.requirements[7].verdict = Verdict.ATTESTED  # EHDS-GEN-001, no attestations file given
    write_reports(run, tmp_path, formats=("json",))
    row = rows(load_report(tmp_path))["EHDS-GEN-001"]
    assert row["verdict"] == "not-tested"
    assert row["reason"] == "no automatic check; attested without an attestations file"
