"""Hook specifications the conformance plugin adds to pytest.

`conformance run` (and any program driving `pytest.main` with the plugin) receives
the run's result through a hook implementation passed in ``plugins=[...]``, instead of
reading a module global: two runs in one process never see each other's result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from conformance.model import RunResult


@pytest.hookspec(historic=False)
def pytest_conformance_finished(config: pytest.Config, result: "RunResult", report_dir: Path | None) -> None:
    """Called once on the controller when every requirement has its verdict and the reports are written
    (`report_dir` is None when no report folder was asked for)."""
