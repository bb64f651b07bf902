"""write_reports end to end on the sample run: files, schema, manifest, no secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.model import Verdict
from conformance.report import load_report, write_reports
from conformance.report.jsonreport import schema_errors
from conformance.report.manifest import check_manifest, sha256_file
from tests.report.samples import SECRETS, make_run


def all_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_writes_every_artefact_and_returns_their_paths(tmp_path: Path, sample_run) -> None:
    paths = write_reports(sample_run, tmp_path / "r")
    names = {p.relative_to(tmp_path / "r").as_posix() for p in paths}
    assert {"report.json", "report.html", "junit.xml", "manifest.json"} <= names
    assert paths[-1].name == "manifest.json"
    assert all(p.is_file() for p in paths)


def test_report_json_matches_published_schema(report_dir: Path) -> None:
    doc = json.loads((report_dir / "report.json").read_text())
    assert schema_errors(doc) == []
    assert load_report(report_dir) == doc


def test_report_has_one_row_per_requirement_with_its_verdict(report_dir: Path, sample_run) -> None:
    doc = load_report(report_dir)
    assert [r["id"] for r in doc["requirements"]] == [r.requirement.id for r in sample_run.requirements]
    assert {r["id"]: r["verdict"] for r in doc["requirements"]} == {
        r.requirement.id: r.verdict.value for r in sample_run.requirements
    }
    assert doc["summary"]["total"] == {
        "fail": 2,
        "error": 1,
        "pass": 3,
        "attested": 0,
        "not-applicable": 1,
        "not-tested": 3,
    }
    assert doc["summary"]["conclusion"] == "non-conformant"
    assert doc["run"]["seed"] == "12345"
    assert doc["profile"]["sha256"] == "a" * 64
    assert doc["packages"] == [{"name": "hl7.fhir.r4.core", "version": "4.0.1", "sha256": "c" * 64}]
    assert doc["run"]["duration"] == 90.0


@pytest.mark.parametrize(
    ("changes", "conclusion"),
    [
        ({}, "non-conformant"),
        ({"EHDS-LOG-002": Verdict.PASS, "EHDS-INT-012": Verdict.PASS}, "incomplete"),  # an error blocks
        ({"EHDS-LOG-002": Verdict.PASS, "EHDS-INT-012": Verdict.PASS, "EHDS-INT-001": Verdict.PASS}, "incomplete"),
        (
            {
                "EHDS-LOG-002": Verdict.PASS,
                "EHDS-INT-012": Verdict.PASS,
                "EHDS-INT-001": Verdict.PASS,
                "EHDS-GEN-001": Verdict.PASS,
            },
            "conformant",
        ),
    ],
)
def test_conclusion_follows_shall_verdicts(tmp_path: Path, changes, conclusion) -> None:
    write_reports(make_run(changes=changes), tmp_path)
    assert load_report(tmp_path)["summary"]["conclusion"] == conclusion


def test_no_secret_reaches_any_artefact(report_dir: Path) -> None:
    files = all_files(report_dir)
    assert len(files) >= 4
    for path in files:
        text = path.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {path.name}"
    doc = load_report(report_dir)
    assert doc["redaction"]["values"] >= 10


def test_manifest_lists_every_artefact_with_its_digest(report_dir: Path) -> None:
    manifest = json.loads((report_dir / "manifest.json").read_text())
    listed = {e["path"]: e["sha256"] for e in manifest["files"]}
    on_disk = {p.relative_to(report_dir).as_posix() for p in all_files(report_dir)} - {"manifest.json"}
    assert set(listed) == on_disk
    for rel, digest in listed.items():
        assert sha256_file(report_dir / rel) == digest
    assert check_manifest(report_dir, manifest) == []


def test_manifest_check_names_changed_missing_and_added_files(report_dir: Path) -> None:
    manifest = json.loads((report_dir / "manifest.json").read_text())
    data = bytearray((report_dir / "junit.xml").read_bytes())
    data[100] ^= 1
    (report_dir / "junit.xml").write_bytes(bytes(data))
    (report_dir / "report.html").unlink()
    (report_dir / "extra.txt").write_text("x")
    problems = check_manifest(report_dir, manifest)
    assert any(p.startswith("junit.xml: content changed") for p in problems)
    assert "report.html: missing" in problems
    assert any(p.startswith("extra.txt: not listed") for p in problems)
    assert len(problems) == 3


def test_unknown_format_is_refused(tmp_path: Path, sample_run) -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        write_reports(sample_run, tmp_path, formats=("json", "pdf"))


def test_load_report_names_file_and_path_of_a_schema_violation(report_dir: Path) -> None:
    from conformance.errors import UsageError

    doc = json.loads((report_dir / "report.json").read_text())
    doc["requirements"][1]["verdict"] = "passed"
    (report_dir / "report.json").write_text(json.dumps(doc))
    with pytest.raises(UsageError, match=r"report.json: does not match report schema .*\n  /requirements/1/verdict"):
        load_report(report_dir)
