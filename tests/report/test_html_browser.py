"""report.html in a real browser (headless Chromium): the script runs, filters work, the chart is drawn.

Install: `apt-get install -y chromium` (Debian). In CI (env CI=true) a missing
browser FAILS this test; locally it is skipped with the reason.
Set REPORT_SCREENSHOTS=DIR to also copy the screenshots to DIR (e.g. reports/screenshots).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest

from conformance.report import load_report, write_reports
from tests.report.png import read_png
from tests.report.samples import make_run

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
)
WINDOW = (1280, 1600)
#: chart colours (conformance.report.chart.COLOURS) as RGB
ROWS = "//tr[contains(concat(' ', @class, ' '), ' req ')]"
DETAILS = "//article[contains(concat(' ', @class, ' '), ' detail ')]"
SEGMENTS = "//*[@id='verdict-chart']//rect[@class='seg']"
GREEN, RED, YELLOW = (0x2D, 0xA4, 0x4E), (0xCF, 0x22, 0x2E), (0xEA, 0xC5, 0x4F)


@pytest.fixture(scope="module")
def browser() -> str:
    found = os.environ.get("CHROMIUM") or next((b for b in map(shutil.which, BROWSERS) if b), None)
    if not found:
        message = "headless Chromium not found (Debian: apt-get install -y chromium; or set CHROMIUM=/path)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: the browser test must run in CI")
        pytest.skip(message)
    return found


def run_browser(browser: str, tmp: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"chromium-profile-{len(list(tmp.glob('chromium-profile-*')))}"
    cmd = [browser, *FLAGS, f"--user-data-dir={profile}", *extra, url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc


def dump_dom(browser: str, tmp: Path, url: str) -> lxml.html.HtmlElement:
    proc = run_browser(browser, tmp, url, "--dump-dom")
    assert "<html" in proc.stdout, proc.stderr[-2000:]
    return lxml.html.fromstring(proc.stdout)


def screenshot(browser: str, tmp: Path, url: str, name: str, size: tuple[int, int] = WINDOW) -> Path:
    out = tmp / name
    run_browser(browser, tmp, url, f"--screenshot={out}", f"--window-size={size[0]},{size[1]}")
    assert out.is_file() and out.stat().st_size > 10_000, "no screenshot written"
    if os.environ.get("REPORT_SCREENSHOTS"):
        target = Path(os.environ["REPORT_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(out, target / name)
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("browser") / "report"
    write_reports(make_run(), out)
    return out / "report.html", load_report(out)


def test_summary_and_rows_render_after_scripts_run(browser: str, page, tmp_path: Path) -> None:
    html, doc = page
    dom = dump_dom(browser, tmp_path, html.as_uri())
    assert dom.get("data-filters") == "ready", "the filter script did not run"
    for verdict, n in doc["summary"]["total"].items():
        assert dom.get_element_by_id(f"count-{verdict}").text_content().strip() == str(n)
    rows = dom.xpath(ROWS)
    assert [r.get("data-id") for r in rows] == [r["id"] for r in doc["requirements"]]
    assert not [r for r in rows if r.get("hidden") is not None]
    assert dom.get_element_by_id("shown-count").text_content() == str(len(doc["requirements"]))
    segs = dom.xpath(SEGMENTS)
    assert sum(int(s.get("data-count")) for s in segs if s.get("data-category") == "all requirements") == 10


def test_filter_from_url_hides_other_rows(browser: str, page, tmp_path: Path) -> None:
    html, doc = page
    dom = dump_dom(browser, tmp_path, html.as_uri() + "#verdict=fail&level=SHALL")
    visible = [r.get("data-id") for r in dom.xpath(ROWS) if r.get("hidden") is None]
    expected = [r["id"] for r in doc["requirements"] if r["verdict"] == "fail" and r["level"] == "SHALL"]
    assert visible == expected == ["EHDS-LOG-002", "EHDS-INT-012"]
    assert dom.get_element_by_id("shown-count").text_content() == "2"
    details = [a.get("data-id") for a in dom.xpath(DETAILS) if a.get("hidden") is None]
    assert details == expected
    dom_none = dump_dom(browser, tmp_path, html.as_uri() + "#q=no-such-requirement")
    assert dom_none.get_element_by_id("shown-count").text_content() == "0"
    assert dom_none.get_element_by_id("no-match").get("hidden") is None


def test_screenshot_shows_the_summary_chart(browser: str, page, tmp_path: Path) -> None:
    html, _ = page
    shot = screenshot(browser, tmp_path, html.as_uri(), "report-summary.png")
    image = read_png(shot.read_bytes())
    assert (image.width, image.height) == WINDOW
    # the bars: each colour covers far more pixels than the tiles' borders and badges could
    counts = {name: image.count(rgb) for name, rgb in (("pass", GREEN), ("fail", RED), ("not-tested", YELLOW))}
    assert all(n > 8_000 for n in counts.values()), counts


def test_screenshot_check_detects_a_missing_chart(browser: str, tmp_path: Path, monkeypatch) -> None:
    """Control: the same page without the SVG chart does not pass the pixel check above."""
    import conformance.report.html as html_module

    monkeypatch.setattr(html_module, "verdict_chart", lambda summary: "")
    write_reports(make_run(), tmp_path / "nochart", formats=("json", "html"))
    shot = screenshot(browser, tmp_path, (tmp_path / "nochart" / "report.html").as_uri(), "no-chart.png")
    image = read_png(shot.read_bytes())
    assert image.count(YELLOW) < 8_000


# ---------------------------------------------------------------- printing (save as PDF)
#: an unbreakable token far wider than the page: it must wrap, not run off the page
LONG = "Bundle.entry[0].resource.extension" + "".join(f".x{i:03d}" for i in range(120))
#: the same kind of token in a failure message (a full-width block: its text comes out of the PDF in one piece)
LONG_MESSAGE = "urn:uuid:" + "".join(f"{i:03d}" for i in range(200))


@pytest.fixture(scope="module")
def printed(browser: str, tmp_path_factory) -> tuple[Path, dict]:
    """The sample run with a very long issue location, printed to PDF with a filter in the URL."""
    pdftotext = shutil.which("pdftotext")
    if not pdftotext or not shutil.which("pdftoppm"):
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed: apt-get install -y poppler-utils")
    tmp = tmp_path_factory.mktemp("print")
    run = make_run()
    failing = next(r for r in run.requirements if r.requirement.id == "EHDS-LOG-002").checks[0]
    failing.evidence.append({"kind": "validation", "issues": [
        {"severity": "error", "code": "structure", "location": LONG, "message": "m " + LONG, "rule": "r"}]})
    failing.message += " " + LONG_MESSAGE
    write_reports(run, tmp / "report")
    pdf = tmp / "out.pdf"
    # a filter in the URL hides rows on screen; printing must still show every requirement
    run_browser(browser, tmp, (tmp / "report" / "report.html").as_uri() + "#verdict=fail",
                f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert pdf.is_file() and pdf.stat().st_size > 10_000, "no PDF written"
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return pdf, {"text": text, "doc": load_report(tmp / "report")}


def test_print_shows_every_requirement_and_all_collapsed_evidence(printed) -> None:
    _, got = printed
    text, doc = got["text"], got["doc"]
    assert all(r["id"] in text for r in doc["requirements"])  # the #verdict=fail filter does not hide any
    # evidence inside closed <details> of passing checks: HTTP headers, a recorded document
    assert "application/fhir+json" in text, "collapsed HTTP headers are missing from the printout"
    assert '"resourceType": "AuditEvent"' in text
    assert doc["conclusion"]["explanation"].split(".")[0] in " ".join(text.split())


def test_print_wraps_long_values_inside_the_page(printed, tmp_path: Path) -> None:
    pdf, got = printed
    assert LONG_MESSAGE in "".join(got["text"].split()), "the long value was cut off"
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert pages
    for png in pages:
        image = read_png(png.read_bytes())
        edge = max(2, image.width // 50) * image.channels  # the outer 2% lie in the page margin
        for row in image.rows:
            assert row[-edge:].count(255) == edge, f"{png.name}: something is drawn over the right page edge"
