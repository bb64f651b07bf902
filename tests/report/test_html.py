"""report.html without a browser: self-contained, escaped, every requirement and evidence kind rendered."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from conformance.report import build_report, load_report, write_documents
from conformance.report.html import DOCUMENT_CHARS, render_html
from tests.report.samples import make_run


@pytest.fixture
def page(report_dir: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((report_dir / "report.html").read_bytes())


def test_page_is_self_contained(report_dir: Path, page) -> None:
    text = (report_dir / "report.html").read_text()
    csp = page.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert csp and "default-src 'none'" in csp[0]
    assert page.xpath("//link") == []
    assert page.xpath("//*[@src]") == [], "no element may load anything"
    assert page.xpath("//object|//embed|//iframe|//img") == []
    for block in page.xpath("//style/text()") + page.xpath("//script/text()"):
        assert "@import" not in block and "url(" not in block and "http://" not in block and "https://" not in block
    assert len(page.xpath("//script")) == 1  # ours, inline
    # the only absolute URLs are references a reader may follow, and the SVG namespace
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text))
    allowed = {
        "http://www.w3.org/2000/svg",
        "https://eur-lex.europa.eu/eli/reg/2025/327/oj",
        "http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips",
        "https://ehr.example/fhir/Patient?identifier=x&amp;access_token=[REDACTED]",
    }
    assert urls <= allowed, urls - allowed


def test_sut_text_is_escaped(page) -> None:
    messages = page.xpath("//pre[@class='message']/text()")
    assert "SUT accepted a Bundle without Composition.subject <script>alert(1)</script>" in messages


def test_header_names_sut_profile_and_run(page) -> None:
    assert page.get_element_by_id("sut").text_content() == "Reference EHR 1.0 (ehds-conformance)"
    assert page.get_element_by_id("profile").text_content().startswith("ehds-core 0.1.0: EHDS core requirements")
    assert page.get_element_by_id("conclusion").get("data-conclusion") == "non-conformant"
    text = page.text_content()
    for expected in ("a" * 64, "hl7.fhir.r4.core#4.0.1", "20250601T120000Z-ref", "12345", "12 secret value(s) masked"):
        assert expected in text


def test_every_requirement_has_a_row_and_details(report_dir: Path, page) -> None:
    doc = load_report(report_dir)
    rows = page.xpath("//tr[contains(@class,'req')]")
    assert [(r.get("data-id"), r.get("data-verdict")) for r in rows] == [
        (r["id"], r["verdict"]) for r in doc["requirements"]
    ]
    for r in doc["requirements"]:
        article = page.get_element_by_id(f"req-{r['id']}")
        assert len(article.xpath(".//details[contains(@class,'check')]")) == len(r["checks"])


def test_summary_numbers_and_chart_match_the_report(report_dir: Path, page) -> None:
    doc = load_report(report_dir)
    for verdict, n in doc["summary"]["total"].items():
        assert page.get_element_by_id(f"count-{verdict}").text_content() == str(n)
    segs = page.xpath("//*[@id='verdict-chart']//rect[@class='seg']")
    got = {(s.get("data-category"), s.get("data-verdict")): int(s.get("data-count")) for s in segs}
    want = {(c, v): n for c, counts in doc["summary"]["by_category"].items() for v, n in counts.items() if n}
    want |= {("all requirements", v): n for v, n in doc["summary"]["total"].items() if n}
    assert got == want


def test_failing_checks_are_open_passing_ones_folded(page) -> None:
    fail = page.get_element_by_id("req-EHDS-INT-012").xpath(".//details[contains(@class,'check')]")
    assert [d.get("open") is not None for d in fail] == [True, False]


def test_evidence_kinds_are_rendered(page) -> None:
    validation = page.xpath("//div[contains(@class,'ev-validation')]//tbody/tr/td/text()")
    assert {"error", "Bundle.entry[2].resource.subject", "Composition.subject"} <= set(validation)
    http = page.xpath("//div[contains(@class,'ev-http')]")[0]
    assert "GET https://ehr.example/fhir/Patient?identifier=x&access_token=[REDACTED]" in http.text_content()
    assert "→ 401" in http.text_content()
    header_cells = [td.text_content() for td in http.xpath(".//table[@class='headers']//td")]
    assert ["Authorization", "Bearer [REDACTED]"] == header_cells[:2]
    assert "Set-Cookie" in header_cells
    falsifying = page.xpath("//div[contains(@class,'ev-falsifying-example')]")[0].text_content()
    assert "Minimal falsifying example (seed 987654321)" in falsifying and "test_log_names_organisation(" in falsifying
    adapter = page.xpath("//div[contains(@class,'ev-adapter-error')]")[0].text_content()
    assert "AdapterTimeout" in adapter and "Cookie: [REDACTED]" in adapter
    assert "AuditEvent" in page.xpath("//div[contains(@class,'ev-document')]//summary")[0].text_content()
    assert page.xpath("//div[contains(@class,'ev-screenshot-ish')]//pre")  # unknown kinds shown as JSON
    assert "3 reads, 3 AuditEvents" in page.xpath("//div[contains(@class,'ev-note')]/p/text()")


def test_large_documents_are_cut_in_the_page_not_in_json(tmp_path: Path) -> None:
    run = make_run()
    big = {"resourceType": "Bundle", "entry": [{"fullUrl": f"urn:uuid:{i:036d}"} for i in range(2000)]}
    run.requirements[2].checks[0].evidence.append({"kind": "document", "data": big})
    write_documents(build_report(run), tmp_path, ["json", "html"])
    html = (tmp_path / "report.html").read_text()
    assert f"cut at {DOCUMENT_CHARS} of" in html
    assert len(load_report(tmp_path)["requirements"][2]["checks"][0]["evidence"][-1]["data"]["entry"]) == 2000


def test_missing_optional_evidence_fields_render(sample_run) -> None:
    doc = build_report(sample_run)
    doc["requirements"][0]["checks"][0]["evidence"] = [
        {"kind": "http", "method": "POST", "url": "https://x/fhir"},
        {"kind": "falsifying-example", "repr": "f(x=1)"},
        {"kind": "validation", "issues": []},
    ]
    html = render_html(doc)
    assert "POST https://x/fhir</span> &rarr; no response" in html or "→ no response" in html
    assert "Minimal falsifying example</h4>" in html
    assert "Validation: 0 issue(s)" in html
