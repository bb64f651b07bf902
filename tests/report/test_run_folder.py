"""Run folders: never overwritten by accident, a signature never dropped silently, no machine paths in any
artefact, and the verify command summary.md suggests works exactly as written."""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.errors import UsageError
from conformance.report import ReportExists, write_reports
from conformance.report.signing import generate_key, sign_directory, verify_directory
from conformance.resources import fhir_packages_dir
from tests.report.samples import make_run


def test_an_existing_report_folder_is_refused(tmp_path: Path) -> None:
    write_reports(make_run("first"), tmp_path / "r")
    before = (tmp_path / "r" / "report.json").read_bytes()
    with pytest.raises(ReportExists, match=r"already holds a report .*\n  hint: .*--force") as err:
        write_reports(make_run("second"), tmp_path / "r")
    assert isinstance(err.value, UsageError)  # exit code 2 on the command line
    assert (tmp_path / "r" / "report.json").read_bytes() == before


def test_an_empty_folder_is_fine(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()  # what the plugin creates before writing
    write_reports(make_run(), tmp_path / "r", formats=("json",))
    assert (tmp_path / "r" / "report.json").is_file()  # written into the folder, not refused as an old run


def test_force_replaces_the_report_and_nothing_of_the_old_one_stays_listed(tmp_path: Path) -> None:
    write_reports(make_run("first"), tmp_path / "r")
    write_reports(make_run("second"), tmp_path / "r", formats=("json", "html"), force=True)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["manifest.json", "report.html", "report.json"]
    assert verify_directory(tmp_path / "r").ok


def test_a_signed_folder_is_never_overwritten(tmp_path: Path) -> None:
    write_reports(make_run(), tmp_path / "r")
    key = generate_key()
    sign_directory(tmp_path / "r", key)
    for force in (False, True):
        with pytest.raises(ReportExists, match=r"holds a signed report \(manifest.jws\); refusing to overwrite it"):
            write_reports(make_run("other"), tmp_path / "r", force=force)
    result = verify_directory(tmp_path / "r", key)
    assert result.ok and result.authenticated  # the signed report is untouched


def test_no_machine_path_in_any_artefact(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home" / "jane"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    out = tmp_path / "reports" / "run-1"
    run = make_run()
    shipped = fhir_packages_dir() / "hl7.fhir.r4.core"
    run = dataclasses.replace(
        run,
        packages=[{"name": "hl7.fhir.r4.core", "version": "4.0.1", "path": str(shipped)},
                  {"name": "local", "version": "1", "path": str(home / "pkgs" / "local")}],
        settings={**run.settings, "report_dir": str(out), "profile_file": str(work / "profiles" / "mine.yaml"),
                  "config": str(home / "acme.toml")},
    )
    write_reports(run, out)
    roots = {str(tmp_path), str(tmp_path.resolve()), str(fhir_packages_dir()), str(home), str(work)}
    for path in (p for p in out.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        leaked = [r for r in roots if r in text]
        assert not leaked, f"{path.relative_to(out)} names {leaked}"
    doc = (out / "report.json").read_text()
    assert '"path": "profiles/packages/hl7.fhir.r4.core"' in doc
    assert '"profile_file": "profiles/mine.yaml"' in doc and '"config": "~/acme.toml"' in doc
    assert '"report_dir": "<report-dir>"' in doc


def _suggested_verify(summary: str) -> str:
    found = re.findall(r"in the report folder: `([^`]+)`", summary)
    assert len(found) == 1, "summary.md suggests no verify command"
    return found[0]


@pytest.mark.parametrize("signed", [False, True])
def test_the_verify_command_in_summary_md_works_as_written(tmp_path: Path, signed: bool) -> None:
    out = tmp_path / "reports" / "run-1"
    write_reports(make_run(), out)
    if signed:
        sign_directory(out, generate_key())
    command = shlex.split(_suggested_verify((out / "summary.md").read_text()))
    assert command[0] == "conformance"
    scripts = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(command, cwd=out, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK .:")
    (out / "report.html").write_text("changed")  # and it does catch a change
    proc = subprocess.run(command, cwd=out, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1 and "report.html" in proc.stdout


def test_only_paths_are_replaced_never_parts_of_urls(tmp_path: Path, monkeypatch) -> None:
    from conformance.report.portable import strip_machine_paths

    home = tmp_path / "root"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    out = tmp_path / "r1"
    data = {"url": f"https://ehr.example{home}/fhir", "file": f"{home}/acme.toml", "arg": f"cfg={home}/x",
            "here": f"see {out}/report.html", "sibling": f"{out}0/report.html"}
    assert strip_machine_paths(data, out) == {
        "url": f"https://ehr.example{home}/fhir", "file": "~/acme.toml", "arg": "cfg=~/x",
        "here": "see <report-dir>/report.html", "sibling": f"{out}0/report.html"}


def test_check_folder_is_a_dry_run_for_preflights(tmp_path: Path) -> None:
    from conformance.report import check_folder

    assert check_folder(tmp_path / "new") == []
    write_reports(make_run(), tmp_path / "r", formats=("json",))
    with pytest.raises(ReportExists):
        check_folder(tmp_path / "r")
    assert check_folder(tmp_path / "r", force=True) == ["manifest.json", "report.json"]
    sign_directory(tmp_path / "r", generate_key())
    with pytest.raises(ReportExists, match="signed"):
        check_folder(tmp_path / "r", force=True)
    assert (tmp_path / "r" / "report.json").exists() and not (tmp_path / "new").exists()
