"""Certification reports: report.json (+ schema), report.html, junit.xml, Allure results,
FHIR TestReport, Markdown summary, manifest.json with sha256 digests, JWS signature.

The pytest plugin calls `write_reports(result, directory)` once at the end of a run.
Everything written comes from one redacted report document (see `build`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from conformance.model import RunResult
from conformance.report.allure import write_allure
from conformance.report.attestations import load_attestations
from conformance.report.build import SCHEMA_VERSION, build_report
from conformance.report.folder import ReportExists, check_folder, prepare_folder
from conformance.report.html import write_html
from conformance.report.jsonreport import load_report, write_json
from conformance.report.junit import write_junit
from conformance.report.manifest import write_manifest
from conformance.report.markdown import write_markdown
from conformance.report.portable import strip_machine_paths
from conformance.report.redact import redact
from conformance.report.testreport import write_testreport

__all__ = ["FORMATS", "SCHEMA_VERSION", "ReportExists", "build_report", "check_folder", "load_report", "redact",
           "write_documents", "write_reports"]

Writer = Callable[[dict[str, Any], Path], "Path | list[Path]"]

WRITERS: dict[str, Writer] = {
    "json": write_json,
    "html": write_html,
    "junit": write_junit,
    "allure": write_allure,
    "testreport": write_testreport,
    "markdown": write_markdown,
}
FORMATS: tuple[str, ...] = tuple(WRITERS)


def write_documents(doc: dict[str, Any], directory: Path, formats: Iterable[str] = FORMATS, *,
                    force: bool = False) -> list[Path]:
    """Write the given formats of an already built (redacted) report document, then the manifest.

    A folder that already holds a report is refused (`ReportExists`, a UsageError: exit 2) unless
    `force`; a signed one is refused even then (see `conformance.report.folder`).
    """
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in WRITERS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; known: {', '.join(WRITERS)}")
    directory = Path(directory)
    prepare_folder(directory, force=force)
    doc = strip_machine_paths(doc, directory)
    paths: list[Path] = []
    for name in formats:
        written = WRITERS[name](doc, directory)
        paths.extend(written if isinstance(written, list) else [written])
    paths.append(write_manifest(directory, doc["run"]["id"]))
    return paths


def write_reports(
    result: RunResult,
    directory: Path,
    *,
    formats: Iterable[str] = FORMATS,
    attestations: Path | None = None,
    force: bool = False,
) -> list[Path]:
    """Write the report files of a run into `directory` and return their paths (manifest.json last).

    attestations: optional YAML file of attestations (see `conformance.report.attestations`).
    force: replace the report already in `directory` (never a signed one: see `prepare_folder`).
    Raises UsageError for a malformed attestations file (file:line in the message), an attestation
    for a requirement a check decided, and `ReportExists` for a folder that already holds a report.
    """
    atts = load_attestations(attestations) if attestations is not None else None
    doc = build_report(result, atts)
    return write_documents(doc, Path(directory), formats, force=force)
