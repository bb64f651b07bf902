"""The machine-readable outputs: junit.xml, Allure results, FHIR TestReport, Markdown summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from allure_commons.model2 import Label
from allure_commons.model2 import TestResult as AllureResult

from conformance.report import load_report, write_reports
from conformance.report.testreport import fhir_datetime, fhir_id
from tests.report.samples import make_run

DATA = Path(__file__).parent / "data"


# ---------------------------------------------------------------- junit.xml
def junit(report_dir: Path) -> ET.Element:
    return ET.parse(report_dir / "junit.xml").getroot()


def test_junit_has_one_testcase_per_requirement(report_dir: Path) -> None:
    doc = load_report(report_dir)
    ids = [c.get("name").split(" ")[0] for c in junit(report_dir).findall("./testsuite/testcase")]
    assert sorted(ids) == sorted(r["id"] for r in doc["requirements"])
    assert len(ids) == len(set(ids)) == 10


def test_junit_maps_verdicts(report_dir: Path) -> None:
    doc = load_report(report_dir)
    verdicts = {r["id"]: r["verdict"] for r in doc["requirements"]}
    for case in junit(report_dir).iter("testcase"):
        rid = case.get("name").split(" ")[0]
        children = {child.tag for child in case} - {"system-out"}
        expected = {"fail": {"failure"}, "error": {"error"}, "pass": set()}.get(verdicts[rid], {"skipped"})
        assert children == expected, rid
        skipped = case.find("skipped")
        if skipped is not None:
            assert skipped.get("message").startswith(verdicts[rid] + ": ")


def test_junit_failure_carries_message_and_evidence(report_dir: Path) -> None:
    case = next(c for c in junit(report_dir).iter("testcase") if c.get("name").startswith("EHDS-INT-012"))
    failure = case.find("failure")
    assert failure.get("message") == "SUT accepted a Bundle without Composition.subject <script>alert(1)</script>"
    assert (
        "error at Bundle.entry[2].resource.subject: minimum cardinality 1 not met [Composition.subject]" in failure.text
    )


def test_junit_counts_are_consistent(report_dir: Path) -> None:
    root = junit(report_dir)
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("10", "2", "1", "4")
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors")) == sum(c.find("error") is not None for c in cases)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)


def test_junit_survives_control_characters(tmp_path: Path) -> None:
    run = make_run()
    run.requirements[2].checks[0].message = "bad byte \x00\x1b[31m in SUT answer"
    write_reports(run, tmp_path, formats=("json", "junit"))
    assert "bad byte" in ET.parse(tmp_path / "junit.xml").getroot().find(".//failure").get("message")


# ---------------------------------------------------------------- Allure
def allure_results(report_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((report_dir / "allure-results").glob("*-result.json"))]


def test_allure_result_per_requirement_with_labels(report_dir: Path) -> None:
    results = allure_results(report_dir)
    assert len(results) == 10
    by_req = {}
    for data in results:
        result = AllureResult(
            **{**data, "labels": [Label(**lb) for lb in data["labels"]]}
        )  # the Allure model accepts it
        labels = {lb.name: lb.value for lb in result.labels}
        assert {"requirement", "category", "level", "verdict", "severity", "suite"} <= set(labels)
        by_req[labels["requirement"]] = (data["status"], labels)
    assert by_req["EHDS-LOG-002"][0] == "failed"
    assert by_req["EHDS-INT-001"][0] == "broken"
    assert by_req["EHDS-SEC-001"][0] == "passed"
    assert by_req["EHDS-GEN-001"][0] == "skipped"
    assert by_req["EHDS-SEC-001"][1]["level"] == "SHALL" and by_req["EHDS-SEC-001"][1]["category"] == "security"


def test_allure_steps_and_attachments_exist(report_dir: Path) -> None:
    data = next(d for d in allure_results(report_dir) if d["fullName"].endswith("EHDS-INT-012"))
    assert [s["status"] for s in data["steps"]] == ["failed", "passed"]
    for step in data["steps"]:
        for att in step.get("attachments", []):
            assert (report_dir / "allure-results" / att["source"]).is_file()
    assert "environment.properties" in {p.name for p in (report_dir / "allure-results").iterdir()}


def test_rewriting_replaces_earlier_allure_results(tmp_path: Path) -> None:
    write_reports(make_run("first"), tmp_path, formats=("allure",))
    write_reports(make_run("second"), tmp_path, formats=("allure",), force=True)
    assert len(list((tmp_path / "allure-results").glob("*-result.json"))) == 10


def test_allure_output_is_deterministic(tmp_path: Path) -> None:
    write_reports(make_run(), tmp_path / "a", formats=("allure",))
    write_reports(make_run(), tmp_path / "b", formats=("allure",))
    a = {p.name: p.read_bytes() for p in (tmp_path / "a" / "allure-results").iterdir()}
    b = {p.name: p.read_bytes() for p in (tmp_path / "b" / "allure-results").iterdir()}
    assert a == b


# ---------------------------------------------------------------- FHIR TestReport
@pytest.fixture(scope="module")
def testreport_schema() -> dict:
    return json.loads((DATA / "fhir-r4-testreport.schema.json").read_text())


def test_testreport_is_valid_fhir_r4(report_dir: Path, testreport_schema: dict) -> None:
    tr = json.loads((report_dir / "testreport.json").read_text())
    errors = list(jsonschema.Draft6Validator(testreport_schema).iter_errors(tr))
    assert errors == [], [e.message for e in errors]
    # cardinalities the JSON schema does not enforce (TestReport R4: status, testScript, result 1..1)
    assert tr["status"] == "completed" and tr["testScript"] and tr["result"] == "fail"
    for test in tr["test"]:
        assert test["action"], test["name"]
        for action in test["action"]:  # inv-1 (TestReport.test.action): an operation or an assert
            assert ("assert" in action) != ("operation" in action)


def test_testreport_fields_map_verdicts(report_dir: Path) -> None:
    tr = json.loads((report_dir / "testreport.json").read_text())
    tests = {t["name"]: t for t in tr["test"]}
    assert len(tests) == 10
    assert [a["assert"]["result"] for a in tests["EHDS-INT-012"]["action"]] == ["fail", "pass"]
    assert [a["assert"]["result"] for a in tests["EHDS-INT-001"]["action"]] == ["error"]
    assert [a["assert"]["result"] for a in tests["EHDS-GEN-001"]["action"]] == ["skip"]
    verdict_ext = [e for e in tests["EHDS-INT-005"]["extension"] if e["url"].endswith("requirement-verdict")]
    assert verdict_ext[0]["valueCode"] == "not-applicable"
    assert tr["issued"] == "2025-06-01T12:01:30Z"
    assert tr["score"] == 50.0  # 3 pass of 6 decided


def test_testreport_passes_when_nothing_failed(tmp_path: Path) -> None:
    from conformance.model import Verdict

    fixed = {"EHDS-LOG-002": Verdict.PASS, "EHDS-INT-012": Verdict.PASS, "EHDS-INT-001": Verdict.PASS}
    write_reports(make_run(changes=fixed), tmp_path / "i", formats=("json", "testreport"))
    assert json.loads((tmp_path / "i" / "testreport.json").read_text())["result"] == "pending"  # incomplete
    write_reports(make_run(changes={**fixed, "EHDS-GEN-001": Verdict.PASS}), tmp_path / "c",
                  formats=("json", "testreport"))
    assert json.loads((tmp_path / "c" / "testreport.json").read_text())["result"] == "pass"


def test_fhir_helpers() -> None:
    assert fhir_id("2025-06-01T12:00:00Z run/1") == "2025-06-01T12-00-00Z-run-1"
    assert len(fhir_id("x" * 100)) == 64
    assert fhir_datetime("2025-06-01T12:00:00") == "2025-06-01T12:00:00Z"
    assert fhir_datetime("2025-06-01T14:00:00+02:00") == "2025-06-01T14:00:00+02:00"
    assert fhir_datetime("garbage") is None


def test_testreport_parses_with_fhir_resources_model(report_dir: Path) -> None:
    """Second opinion from the fhir.resources pydantic models (R4B; TestReport is unchanged from R4)."""
    from fhir.resources.R4B.testreport import TestReport  # dev extra, installed by tox

    tr = TestReport.model_validate_json((report_dir / "testreport.json").read_text())
    assert len(tr.test) == 10


# ---------------------------------------------------------------- Markdown
def test_markdown_summary(report_dir: Path) -> None:
    md = (report_dir / "summary.md").read_text()
    assert md.startswith("## ❌ EHDS conformance: non-conformant")
    assert "| **all** | **3** | **0** | **2** | **1** | **1** | **3** | **10** |" in md
    assert "### SHALL requirements not met (3)" in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "<script>" not in md
    assert len(md) < 65_536


def test_markdown_caps_long_lists(tmp_path: Path) -> None:
    from conformance.report import build_report
    from conformance.report.markdown import MAX_ROWS, render_markdown

    doc = build_report(make_run())
    failing = next(r for r in doc["requirements"] if r["verdict"] == "fail")
    doc["requirements"] = [dict(failing, id=f"X-{i:03}") for i in range(MAX_ROWS + 15)]
    md = render_markdown(doc)
    assert "… and 15 more (see report.html)" in md


@pytest.mark.parametrize(
    "mutate",
    [
        lambda tr: tr.update(status="done"),
        lambda tr: tr.update(id="has spaces"),
        lambda tr: tr["test"][0]["action"][0]["assert"].update(result="passed"),
        lambda tr: tr.update(issued="2025-06-01T12:01:30"),  # a time without zone
        lambda tr: tr["test"][0].update(unknownElement=1),
    ],
)
def test_schema_subset_catches_invalid_testreports(report_dir: Path, testreport_schema: dict, mutate) -> None:
    """The R4 schema check above can fail: each of these breaks the TestReport."""
    tr = json.loads((report_dir / "testreport.json").read_text())
    mutate(tr)
    assert list(jsonschema.Draft6Validator(testreport_schema).iter_errors(tr))
