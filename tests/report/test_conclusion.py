"""One conclusion in every report file: report.json, report.html, summary.md, junit.xml and the FHIR
TestReport all show what `conformance.conclusion.conclude` says for the run (the CLI's source too)."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import lxml.html
import pytest

from conformance.conclusion import NOT_RUN_SELECTION
from conformance.model import RunResult, Verdict
from conformance.report import load_report, write_reports
from tests.report.samples import make_run

FIXED = {"EHDS-LOG-002": Verdict.PASS, "EHDS-INT-012": Verdict.PASS, "EHDS-INT-001": Verdict.PASS}
ATTESTATION = """attestations:
  - requirement: EHDS-GEN-001
    who: Jane Doe
    role: Quality Manager
    when: 2025-06-01
    statement: Instructions for use ship with every release.
    evidence: {reference: docs/ifu/}
"""


def _partial() -> RunResult:
    run = make_run(changes=FIXED)
    rows = [dataclasses.replace(r, reason=NOT_RUN_SELECTION) if r.requirement.id == "EHDS-GEN-001" else r
            for r in run.requirements]
    return dataclasses.replace(run, requirements=rows, selection={"requirements": ["EHDS-LOG-*", "EHDS-INT-*"]})


CASES = {
    "non-conformant": (make_run, False, "non-conformant"),
    "incomplete": (lambda: make_run(changes=FIXED), False, "incomplete"),
    "partial": (_partial, False, "partial"),
    "conformant": (lambda: make_run(changes={**FIXED, "EHDS-GEN-001": Verdict.PASS}), False, "conformant"),
    "conformant-attested": (lambda: make_run(changes=FIXED), True, "conformant (1 attested)"),
}


@pytest.fixture(params=list(CASES), scope="module")
def written(request, tmp_path_factory) -> tuple[Path, RunResult, str]:
    make, attest, label = CASES[request.param]
    tmp = tmp_path_factory.mktemp(request.param)
    run = make()
    att = None
    if attest:
        att = tmp / "attestations.yaml"
        att.write_text(ATTESTATION)
        from conformance.report.attestations import attest_run

        run = attest_run(run, att)
    write_reports(run, tmp / "out", attestations=att)
    return tmp / "out", run, label


def test_report_json_carries_the_conclusion_of_conclude(written) -> None:
    out, run, label = written
    doc = load_report(out)
    expected = run.conclusion()
    assert doc["conclusion"] == expected.to_json()
    assert doc["summary"]["conclusion"] == expected.status
    assert doc["conclusion"]["label"] == label
    assert doc["conclusion"]["explanation"]


def test_html_headline_explanation_and_blockers_agree(written) -> None:
    out, run, label = written
    c = run.conclusion()
    page = lxml.html.fromstring((out / "report.html").read_text())
    head = page.get_element_by_id("conclusion")
    assert head.get("data-conclusion") == c.status and head.get("data-label") == label
    assert head.text_content().strip() == f"Conclusion for SHALL requirements: {label}"
    assert page.get_element_by_id("explanation").text_content().strip() == c.explanation
    shown = [li.get("data-id") for li in page.xpath("//ul[@id='blockers']/li")]
    assert shown == [b.id for b in (*c.failed, *c.errors, *c.not_tested)]


def test_markdown_junit_and_testreport_agree(written) -> None:
    out, run, label = written
    c = run.conclusion()
    md = (out / "summary.md").read_text()
    assert md.splitlines()[0].endswith(f"EHDS conformance: {label}")
    assert c.explanation.split(" (")[0] in md
    for b in c.failed + c.errors + c.not_tested:
        assert f"- {b.id} " in md
    props = {p.get("name"): p.get("value") for p in ET.parse(out / "junit.xml").getroot().iter("property")}
    assert (props["conclusion"], props["conclusion_label"], props["conclusion_explanation"]) == (
        c.status, label, c.explanation)
    tr = json.loads((out / "testreport.json").read_text())
    ext = {e["url"].rsplit("/", 1)[1]: e for e in tr["extension"]}
    assert ext["conclusion"]["valueCode"] == c.status
    assert ext["conclusion-explanation"]["valueString"].startswith(f"Conclusion: {label}\n{c.explanation}")
    assert tr["result"] == {"conformant": "pass", "non-conformant": "fail"}.get(c.status, "pending")
    env = (out / "allure-results" / "environment.properties").read_text().splitlines()
    assert f"conclusion={label}" in env


def test_partial_run_says_what_narrowed_it(tmp_path: Path) -> None:
    write_reports(_partial(), tmp_path)
    doc = load_report(tmp_path)
    assert doc["run"]["selection"] == {"requirements": ["EHDS-LOG-*", "EHDS-INT-*"]}
    page = lxml.html.fromstring((tmp_path / "report.html").read_text())
    assert "requirements=" in page.get_element_by_id("selection").text_content()


def test_scope_exclusions_show_rule_and_reference(tmp_path: Path) -> None:
    from conformance.scope import Scope

    ref = {"source": "Regulation (EU) 2025/327", "section": "Art 14(1)"}
    rules = {"mandatory": [{"id": "SCOPE-LOGGING", "capabilities": ["audit-export"], "rule": "Logging is mandatory.",
                            "references": [ref]}],
             "exclusions": [{"id": "SCOPE-IN-PROCESS", "capabilities": ["http"], "rule": "HTTP checks need HTTP.",
                             "references": [ref]}]}
    run = make_run()
    scope = Scope.of(rules, {**run.sut, "extra": {"capabilities_source": "acme.toml"}})
    scope.capability("http")  # a check needing http was excluded by SCOPE-IN-PROCESS
    write_reports(dataclasses.replace(run, scope=scope.to_json(["laboratory", "patient-summary"])), tmp_path)
    page = lxml.html.fromstring((tmp_path / "report.html").read_text())
    row = page.xpath("//table[@id='exclusions']//tr[@data-rule='SCOPE-IN-PROCESS']")[0]
    cells = [td.text_content().strip() for td in row.xpath("td")]
    assert cells == ["SCOPE-IN-PROCESS", "HTTP checks need HTTP.", "Regulation (EU) 2025/327, Art 14(1)", "http"]
    missing = [td.text_content().strip() for td in page.xpath("//table[@id='missing-mandatory']//td")]
    assert missing == ["audit-export", "SCOPE-LOGGING", "Logging is mandatory.", "Regulation (EU) 2025/327, Art 14(1)"]
    assert page.get_element_by_id("declared-from").text_content() == "acme.toml"
    na = page.xpath("//table[@id='not-applicable']//tr[@data-id='EHDS-INT-005']/td")
    assert na[1].text_content() == "SUT does not declare capability import-laboratory"
    md = (tmp_path / "summary.md").read_text()
    assert "- rule SCOPE-IN-PROCESS: HTTP checks need HTTP. (Regulation (EU) 2025/327, Art 14(1)); excluded: http" in md
    assert "- `audit-export`: SCOPE-LOGGING Logging is mandatory." in md


def test_check_procedure_is_shown_under_its_requirement(tmp_path: Path) -> None:
    run = make_run()
    row = next(r for r in run.requirements if r.requirement.id == "EHDS-LOG-001")
    row.checks[0].description = "Reads three documents, then expects three AuditEvents naming the reader."
    write_reports(run, tmp_path)
    page = lxml.html.fromstring((tmp_path / "report.html").read_text())
    article = page.get_element_by_id("req-EHDS-LOG-001")
    assert "Reads three documents, then expects three AuditEvents" in article.xpath(".//div[@class='procedure']")[0].text_content()
    assert load_report(tmp_path)["requirements"][1]["checks"][0]["description"].startswith("Reads three")


def test_a_failure_without_evidence_shows_its_message_as_evidence(tmp_path: Path) -> None:
    run = make_run()
    check = next(r for r in run.requirements if r.requirement.id == "EHDS-LOG-002").checks[0]
    check.evidence = []
    write_reports(run, tmp_path, formats=("json", "html"))
    article = lxml.html.fromstring((tmp_path / "report.html").read_text()).get_element_by_id("req-EHDS-LOG-002")
    evidence = article.xpath(".//div[contains(@class, 'ev-message')]")[0].text_content()
    assert "Evidence: the failure observed" in evidence and "has no agent.who organisation" in evidence
    assert "No evidence recorded" not in article.text_content()


def test_a_failed_blocker_says_what_the_check_observed(tmp_path: Path) -> None:
    write_reports(make_run(), tmp_path, formats=("json", "html", "markdown"))
    page = lxml.html.fromstring((tmp_path / "report.html").read_text())
    item = page.xpath("//ul[@id='blockers']/li[@data-id='EHDS-LOG-002']")[0].text_content()
    assert "AuditEvent for read of Bundle/7 has no agent.who organisation" in item
    assert "hunter2" not in item  # the message is the redacted one
    assert "- EHDS-LOG-002 failed: AuditEvent for read of Bundle/7" in (tmp_path / "summary.md").read_text()
