"""Attestations: one rule (`decide`) for every path; only requirements no check can decide are attested;
an attestation over a requirement with an automated check is refused naming file, entry and requirement;
every attestation carries the attestor's role and evidence; clear file errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.errors import UsageError
from conformance.model import Verdict
from conformance.report import load_report, write_reports
from conformance.report.attestations import attest_run, load_attestations
from tests.report.samples import make_run

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "attestations.yaml"
    path.write_text(text)
    return path


def entry(rid: str, statement: str = "We ship it.") -> str:
    return (f"  - requirement: {rid}\n    who: Jane Doe\n    role: Quality Manager\n    when: 2025-06-01\n"
            f"    statement: {statement}\n    evidence:\n      reference: docs/ifu/\n      sha256: {DIGEST}\n")


@pytest.fixture
def attested_report(tmp_path: Path) -> dict:
    att = write(
        tmp_path,
        "attestations:\n"
        + entry("EHDS-GEN-001", "Instructions for use ship with every release (token=abc-def-123).")
        + entry("EHDS-INT-005")  # not-applicable: recorded alongside
        + entry("EHDS-GEN-01"),  # typo
    )
    write_reports(make_run(), tmp_path / "out", attestations=att)
    return load_report(tmp_path / "out")


def rows(doc: dict) -> dict[str, dict]:
    return {r["id"]: r for r in doc["requirements"]}


def test_not_tested_becomes_attested_with_role_and_evidence(attested_report: dict) -> None:
    row = rows(attested_report)["EHDS-GEN-001"]
    assert row["verdict"] == "attested"
    assert row["reason"].startswith("attested by Jane Doe (Quality Manager) on 2025-06-01 (not tested automatically")
    a = row["attestations"][0]
    assert (a["status"], a["source"], a["role"]) == ("applied", "attestations.yaml:2", "Quality Manager")
    assert a["evidence"] == {"reference": "docs/ifu/", "sha256": DIGEST}
    assert attested_report["summary"]["total"]["attested"] == 1
    assert attested_report["summary"]["total"]["pass"] == 3  # attested is not counted as pass


@pytest.mark.parametrize(("rid", "check"), [("EHDS-LOG-002", "test_log_names_organisation (fail)"),
                                            ("EHDS-INT-001", "test_export_is_document_bundle (error)"),
                                            ("EHDS-SEC-001", "test_anonymous_is_denied (pass)")])
def test_attestation_over_an_automated_check_is_refused(tmp_path: Path, rid: str, check: str) -> None:
    att = write(tmp_path, "attestations:\n" + entry("EHDS-GEN-001") + entry(rid))
    message = re.escape(f"attestations.yaml:10: attestation #2 for {rid} refused: the requirement has an automated "
                        f"check ({check})")
    with pytest.raises(UsageError, match=message):
        write_reports(make_run(), tmp_path / "out", attestations=att)
    with pytest.raises(UsageError, match=message):  # the same rule on the RunResult path
        attest_run(make_run(), att)
    assert not (tmp_path / "out" / "report.json").exists()


def test_not_applicable_keeps_the_attestation_alongside(attested_report: dict) -> None:
    row = rows(attested_report)["EHDS-INT-005"]
    assert row["verdict"] == "not-applicable"
    assert row["attestations"][0]["status"] == "recorded"
    assert "declared scope" in row["attestations"][0]["why"]


def test_unknown_requirement_is_reported_with_suggestion(attested_report: dict) -> None:
    items = attested_report["attestations"]["items"]
    typo = next(a for a in items if a["requirement"] == "EHDS-GEN-01")
    assert typo["status"] == "ignored"
    assert "did you mean EHDS-GEN-001" in typo["why"]
    assert len(attested_report["attestations"]["sha256"]) == 64


def test_attestation_text_is_redacted(attested_report: dict) -> None:
    row = rows(attested_report)["EHDS-GEN-001"]
    assert "abc-def-123" not in row["attestations"][0]["statement"]


def test_attested_shall_completes_conformance_and_says_so(tmp_path: Path) -> None:
    fixed = {"EHDS-LOG-002": Verdict.PASS, "EHDS-INT-012": Verdict.PASS, "EHDS-INT-001": Verdict.PASS}
    write_reports(make_run(changes=fixed), tmp_path / "a")
    assert load_report(tmp_path / "a")["summary"]["conclusion"] == "incomplete"
    att = write(tmp_path, "attestations:\n" + entry("EHDS-GEN-001"))
    write_reports(make_run(changes=fixed), tmp_path / "b", attestations=att)
    doc = load_report(tmp_path / "b")
    assert doc["summary"]["conclusion"] == "conformant"
    assert doc["conclusion"]["label"] == "conformant (1 attested)"


def test_outputs_show_attested_apart_from_pass(tmp_path: Path) -> None:
    att = write(tmp_path, "attestations:\n" + entry("EHDS-GEN-001"))
    write_reports(make_run(), tmp_path / "o", attestations=att)
    junit = (tmp_path / "o" / "junit.xml").read_text()
    assert '<skipped message="attested: attested by Jane Doe (Quality Manager) on 2025-06-01' in junit
    html = (tmp_path / "o" / "report.html").read_text()
    assert 'data-id="EHDS-GEN-001" data-verdict="attested"' in html
    assert "Attestation (applied)</strong>, not a test: by Jane Doe (Quality Manager), 2025-06-01" in html
    assert DIGEST in html
    md = (tmp_path / "o" / "summary.md").read_text()
    assert "Attested, not tested automatically (1)" in md


def test_a_list_at_top_level_is_accepted(tmp_path: Path) -> None:
    text = entry("EHDS-GEN-001").replace("  - ", "- ").replace("\n    ", "\n  ").replace("\n      ", "\n    ")
    loaded = load_attestations(write(tmp_path, text))
    assert [i["requirement"] for i in loaded["items"]] == ["EHDS-GEN-001"]
    assert loaded["items"][0]["when"] == "2025-06-01"


def test_a_digest_of_digits_stays_a_string(tmp_path: Path) -> None:
    text = "attestations:\n" + entry("EHDS-GEN-001").replace(DIGEST, "0" * 64)
    assert load_attestations(write(tmp_path, text))["items"][0]["evidence"]["sha256"] == "0" * 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "attestations:\n  - requirement: X\n    who: a\n    role: r\n    when: 2025-01-01\n    statment: s\n",
            r"attestations.yaml:6: unknown field 'statment'\n  hint: did you mean 'statement'\?",
        ),
        (
            "attestations:\n  - requirement: X\n    who: a\n    role: r\n    when: 2025-01-01\n    statement: s\n",
            r"attestations.yaml:2: attestation #1 \(X\) is missing 'evidence'",
        ),
        (
            "attestations:\n  - requirement: X\n    who: a\n    when: 2025-01-01\n    statement: s\n    evidence: d\n",
            r"attestations.yaml:2: attestation #1 \(X\) is missing 'role'",
        ),
        (
            "attestations:\n  - requirement: X\n    who: a\n    role: r\n    when: last tuesday\n    statement: s\n",
            r"attestations.yaml:5: 'when' is not an ISO 8601 date: 'last tuesday'",
        ),
        (
            "attestations:\n  - requirement: X\n    who: ''\n    role: r\n    when: 2025-01-01\n    statement: s\n",
            r"attestations.yaml:3: 'who' is empty",
        ),
        (
            "attestations:\n  - requirement: [X, Y]\n    who: a\n",
            r"attestations.yaml:2: 'requirement' must be a single value",
        ),
        (
            "attestations:\n  - requirement: X\n    evidence:\n      sha256: abc\n",
            r"attestations.yaml:4: 'evidence.sha256' is not a sha256 digest",
        ),
        (
            "attestations:\n  - requirement: X\n    evidence:\n      refrence: a.pdf\n",
            r"attestations.yaml:4: unknown evidence field 'refrence'\n  hint: did you mean 'reference'\?",
        ),
        (
            "attestations:\n  - requirement: X\n    evidence: {}\n",
            r"attestations.yaml:3: 'evidence' is empty",
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
    att = write(tmp_path, "attestations:\n" + entry("EHDS-GEN-001") + entry("EHDS-INT-005"))
    run = make_run()
    attested = attest_run(run, att)
    verdicts = {r.requirement.id: r.verdict for r in attested.requirements}
    assert verdicts["EHDS-GEN-001"] is Verdict.ATTESTED
    assert verdicts["EHDS-INT-005"] is Verdict.NOT_APPLICABLE  # recorded, not applied: the same rule
    assert run.requirements[7].verdict is Verdict.NOT_TESTED  # the input is not changed
    # the attested RunResult and the file together give the same report as the plain run and the file
    write_reports(attested, tmp_path / "a", formats=("json",), attestations=att)
    write_reports(run, tmp_path / "b", formats=("json",), attestations=att)
    a, b = load_report(tmp_path / "a"), load_report(tmp_path / "b")
    assert [r["verdict"] for r in a["requirements"]] == [r["verdict"] for r in b["requirements"]]
    assert rows(a)["EHDS-GEN-001"]["attestations"][0]["who"] == "Jane Doe"
    assert a["conclusion"] == b["conclusion"]
    assert attested.conclusion().to_json() == a["conclusion"]  # the exit code's conclusion is the report's


def test_attested_verdict_without_a_file_is_not_trusted(tmp_path: Path) -> None:
    run = make_run()
    run.requirements[7].verdict = Verdict.ATTESTED  # EHDS-GEN-001, no attestations file given
    write_reports(run, tmp_path, formats=("json",))
    row = rows(load_report(tmp_path))["EHDS-GEN-001"]
    assert row["verdict"] == "not-tested"
    assert row["reason"] == "no automatic check; attested without an attestations file"
