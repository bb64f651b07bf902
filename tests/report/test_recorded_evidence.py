"""Evidence as the harness's own recorders write it (conformance.evidence, conformance.settings) lands in
every report intact; a malformed item is kept as malformed-evidence instead of breaking the report."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from conformance.evidence import MAX_DOCUMENT_BYTES, Evidence
from conformance.issues import ValidationIssue
from conformance.model import CheckOutcome, Verdict, combine
from conformance.report import load_report, write_reports
from conformance.settings import example_scope
from tests.report.samples import make_run


def recorded_items() -> list[dict]:
    ev = Evidence()
    ev.note("checked the export")
    ev.add("document", {"resourceType": "Bundle", "type": "document"}, label="export for urn:x|1")
    ev.add("document", {"resourceType": "Binary", "data": "A" * (MAX_DOCUMENT_BYTES + 10)}, label="huge")
    issues = [ValidationIssue("error", "value", f"Bundle.entry[{i}]", "bad", "ele-1") for i in range(60)]
    ev.validation(issues, label="export")
    scope = example_scope(ev, "every read is logged")
    with pytest.raises(AssertionError), scope.example(reads=3, actor="hp"):
        raise AssertionError("2 AuditEvents for 3 reads; Authorization: Bearer leaked-tok-123")
    ev.extend([{"kind": "http", "method": "GET"}])  # no url: not the http shape
    return ev.items


@pytest.fixture
def written(tmp_path: Path) -> Path:
    run = make_run()
    row = run.requirements[1]  # EHDS-LOG-001
    row.checks.append(
        CheckOutcome(
            nodeid="testcases/core/test_access_log.py::test_reads_are_logged",
            name="test_reads_are_logged",
            requirement_ids=[row.requirement.id],
            verdict=Verdict.FAIL,
            message="2 AuditEvents for 3 reads",
            evidence=recorded_items(),
        )
    )
    row.verdict = combine([c.verdict for c in row.checks])
    write_reports(run, tmp_path / "r")
    return tmp_path / "r"


def evidence_of(doc: dict) -> list[dict]:
    row = next(r for r in doc["requirements"] if r["id"] == "EHDS-LOG-001")
    return row["checks"][-1]["evidence"]


def test_report_is_schema_valid_and_keeps_every_item(written: Path) -> None:
    items = evidence_of(load_report(written))  # load_report validates against the schema
    kinds = [i["kind"] for i in items]
    assert kinds == [
        "note",
        "document",
        "document",
        "validation",
        "hypothesis",
        "falsifying-example",
        "malformed-evidence",
    ]
    assert "data" not in items[2] and len(items[2]["sha256"]) == 64
    assert items[3]["total"] == 60 and len(items[3]["issues"]) == 50
    assert items[5]["inputs"] == {"reads": 3, "actor": "hp"}
    assert "leaked-tok-123" not in items[5]["failure"]
    assert items[6]["original_kind"] == "http" and "'url' is a required property" in items[6]["problem"]
    assert items[6]["data"] == {"method": "GET"}


def test_html_renders_recorded_shapes(written: Path) -> None:
    page = lxml.html.fromstring((written / "report.html").read_bytes())
    text = page.get_element_by_id("req-EHDS-LOG-001").text_content()
    assert "Validation of export: 60 issue(s)" in text and "(first 50 shown)" in text
    assert "Document (huge): too large to embed" in text
    assert "Minimal falsifying example of every read is logged" in text
    assert "2 AuditEvents for 3 reads" in text
    hypothesis = page.xpath("//div[contains(@class,'ev-hypothesis')]")[0].text_content()
    assert " ".join(hypothesis.split()).startswith("Property every read is logged: 1 example(s) run")
    assert "Evidence of kind http in an unexpected shape" in " ".join(text.split())


def test_junit_lists_recorded_evidence(written: Path) -> None:
    junit = (written / "junit.xml").read_text()
    assert "document: too large to embed" in junit
    assert 'falsifying example: {"reads": 3, "actor": "hp"}' in junit.replace("&quot;", '"')


def test_packages_without_version_are_kept(tmp_path: Path) -> None:
    run = make_run()
    run.packages = [{"name": "hl7.fhir.r4.core"}, "ips#2.0.0"]  # type: ignore[list-item]
    write_reports(run, tmp_path, formats=("json",))
    assert load_report(tmp_path)["packages"] == [{"name": "hl7.fhir.r4.core"}, {"name": "ips#2.0.0"}]
