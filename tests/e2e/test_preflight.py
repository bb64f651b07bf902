"""Preflight: a broken set-up costs one clear line and the documented exit code, before any check.

Runs `conformance.cli.main` in process (pytest never starts on these paths, so it is cheap) and
checks the exit code, that stderr is exactly one line naming the problem, and that there is no
traceback (only `--debug` shows one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main


def _run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, str]:
    code = main(["run", "--report-dir", str(tmp_path / "reports"), *args])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


@pytest.mark.parametrize(("adapter", "code", "needle"), [
    ("refrence", 2, "Did you mean 'reference'"),
    ("tests.e2e.broken_import:create", 2, "not_installed_vendor_sdk"),
    ("tests.e2e.broken_setups:failing_factory", 2, "missing 'base_url' in sut.toml"),
    ("tests.e2e.broken_setups:not_an_adapter", 2, "not an adapter"),
    ("tests.e2e.broken_setups:unreachable", 3, "Connection refused"),
    ("tests.e2e.broken_setups:locked_out", 2, "test account hp"),
])
def test_adapter_problems_are_one_line_with_their_exit_code(capsys, tmp_path, adapter, code, needle) -> None:
    rc, text = _run(capsys, tmp_path, "--adapter", adapter)
    assert rc == code, text
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert needle in lines[0] and lines[0].startswith("conformance: error:"), lines[0]
    assert "Traceback" not in text


def test_bad_attestations_file_is_refused_before_the_run(capsys, tmp_path) -> None:
    bad = tmp_path / "att.yaml"
    bad.write_text("attestations:\n  - requirement: EHDS-GEN-002\n    who: [not, a, string]\n")
    rc, text = _run(capsys, tmp_path, "--attestations", str(bad))
    lines = text.strip().splitlines()
    assert rc == 2 and "att.yaml:3" in lines[0], text  # file and line of the problem
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].strip().startswith("hint:")), lines


def test_unwritable_report_folder_is_refused(capsys, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["run", "--report-dir", str(blocker / "sub")])
    text = capsys.readouterr().err
    assert code == 2 and "report folder" in text and len(text.strip().splitlines()) == 1, text


def test_an_existing_run_folder_is_never_overwritten(capsys, tmp_path) -> None:
    (tmp_path / "reports" / "r1").mkdir(parents=True)
    (tmp_path / "reports" / "r1" / "report.json.sig").write_text("signature")
    rc, text = _run(capsys, tmp_path, "--run-id", "r1")
    assert rc == 2 and "--force" in text, text
    assert (tmp_path / "reports" / "r1" / "report.json.sig").read_text() == "signature"
