"""A real `conformance run` (plugin, reference EHR, shipped checks) through write_reports: every artefact is
written and valid, and secrets the SUT leaks into recorded evidence are masked in all of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.report import load_report
from conformance.report.manifest import check_manifest
from tests.report import leaky_adapter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("real")
    cmd = [
        sys.executable,
        "-m",
        "conformance.cli",
        "run",
        "--adapter",
        "tests.report.leaky_adapter:create",
        "--report-dir",
        str(out),
        "--run-id",
        "leaky",
        "-k",
        "authentication or every_read",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    return out / "leaky"


def test_all_artefacts_written_and_consistent(real_report: Path) -> None:
    names = {p.name for p in real_report.iterdir()}
    assert {
        "report.json",
        "report.html",
        "junit.xml",
        "allure-results",
        "testreport.json",
        "summary.md",
        "manifest.json",
    } <= names
    doc = load_report(real_report)  # schema-valid
    assert check_manifest(real_report, json.loads((real_report / "manifest.json").read_text())) == []
    assert doc["sut"]["product"] == "leaky EHR"
    assert any(c for r in doc["requirements"] for c in r["checks"])  # checks really ran


def test_leaked_secrets_are_masked_everywhere(real_report: Path) -> None:
    doc = load_report(real_report)
    # the secrets did reach the report's inputs: they sit, masked, where the SUT put them
    assert doc["sut"]["extra"]["client_secret"] == "[REDACTED]"
    http = [e for r in doc["requirements"] for c in r["checks"] for e in c["evidence"] if e["kind"] == "http"]
    assert http, "the adapter's exchange log did not reach the evidence"
    assert http[0]["request_headers"]["Authorization"] == "Bearer [REDACTED]"
    secrets = (leaky_adapter.CLIENT_SECRET, leaky_adapter.BEARER, leaky_adapter.COOKIE, leaky_adapter.PASSWORD)
    for path in real_report.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for secret in secrets:
                assert secret not in text, f"{secret} leaked into {path.relative_to(real_report)}"


def test_no_machine_path_in_a_real_runs_artefacts(real_report: Path) -> None:
    """Neither the report folder, nor the checkout (profile, packages), nor the home directory."""
    import os

    places = {str(real_report), str(real_report.resolve()), str(ROOT), os.path.expanduser("~")}
    for path in (p for p in real_report.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        found = [p for p in places if p in text]
        assert not found, f"{path.relative_to(real_report)} names {found}"
    doc = load_report(real_report)
    assert doc["packages"] and all(not p.get("path", "").startswith("/") for p in doc["packages"])


def test_a_real_runs_testreport_validates(real_report: Path) -> None:
    from conformance.fhir.validator import default_validator

    tr = json.loads((real_report / "testreport.json").read_text())
    assert [str(i) for i in default_validator().validate(tr) if i.is_error] == []
