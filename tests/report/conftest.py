"""Fixtures of the report tests: a sample run and a report directory written from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.model import RunResult
from tests.report.samples import make_run


@pytest.fixture
def sample_run() -> RunResult:
    return make_run()


@pytest.fixture
def report_dir(tmp_path: Path, sample_run: RunResult) -> Path:
    """A report directory written from the sample run (all formats)."""
    from conformance.report import write_reports

    out = tmp_path / sample_run.run_id
    write_reports(sample_run, out)
    return out
