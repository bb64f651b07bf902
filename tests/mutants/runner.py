"""Run `conformance run` inside this process and read back its report.json.

Why in-process: the catalogue runs the whole shipped suite about forty times. A cold
``python -m conformance.cli`` per run re-imports the engine and re-loads the FHIR packages,
snapshots and validators every time; calling :func:`conformance.cli.main` here loads them once
per (xdist) worker and shares them between runs, while each run still gets its own pytest
session, adapter, hypothesis settings and freshly imported check modules.

What a nested ``pytest.main`` could leak into the outer test session, and how it is kept out
(:func:`isolated_run`):

* hypothesis: the conformance plugin loads its ``certification`` profile (derandomized, 20
  examples) and sets a forced seed; the outer session's own hypothesis tests must keep theirs.
  The plugin itself saves them at configure and restores them at unconfigure (conformance.settings).
* check modules: pytest's importlib mode reuses a module already in ``sys.modules``, so a
  second run would see the first run's module objects (and settings decorated at import time).
  Modules imported from the checks' folder during a run are dropped after it, like a new process
  would; the engine's modules (and their caches) stay.
* ``sys.path`` (the checks' pytest.ini adds their folder), warning filters and the output: the
  run's terminal output is kept and shown only when a run does not complete.

A hanging adapter leaves a daemon thread behind (the guard abandons it); that is harmless.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Every run of the catalogue makes the same patients and documents (each run has its own fresh reference
#: EHR, so nothing collides): verdicts then differ between mutants only by what the mutant broke, and the
#: process-wide validator answers a document it already judged from memory (reference service's memo).
CATALOGUE_NAMESPACE = "catalogue"

#: `conformance run` exit codes of a run that completed: conformant, non-conformant, undecided.
COMPLETED = (0, 1, 3)


def run_report(adapter: str, report_dir: Path, *args: str, run_id: str = "run",
               exit_codes: tuple[int, ...] = COMPLETED) -> dict[str, Any]:
    """``conformance run --adapter ADAPTER --report-dir REPORT_DIR --run-id RUN_ID *ARGS`` in this
    process; returns the parsed report.json. Fails the calling test (with the run's output) when the
    exit code is not one of ``exit_codes``."""
    from conformance.cli import main

    argv = ["run", "--adapter", adapter, "--report-dir", str(report_dir), "--run-id", run_id, *args]
    if "--patient-namespace" not in args:
        argv += ["--patient-namespace", CATALOGUE_NAMESPACE]
    output = io.StringIO()
    with isolated_run(), contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = main(argv)
    assert code in exit_codes, (
        f"`conformance {' '.join(argv)}` did not complete (exit {code}):\n{output.getvalue()[-6000:]}")
    return json.loads((Path(report_dir) / run_id / "report.json").read_text(encoding="utf-8"))


def verdicts_of(report: dict[str, Any]) -> dict[str, str]:
    """requirement id -> verdict, from a report."""
    return {row["id"]: row["verdict"] for row in report["requirements"]}


@contextlib.contextmanager
def isolated_run() -> Iterator[None]:
    """Undo what a nested conformance run changes in the interpreter (see the module docstring)."""
    from conformance.resources import testcases_dir

    checks = testcases_dir().resolve()
    modules_before = set(sys.modules)
    path_before = list(sys.path)
    with warnings.catch_warnings():  # hypothesis settings: the plugin gives them back at unconfigure
        try:
            yield
        finally:
            sys.path[:] = path_before
            for name in set(sys.modules) - modules_before:
                if _is_under(getattr(sys.modules.get(name), "__file__", None), checks):
                    del sys.modules[name]


def _is_under(file: str | None, folder: Path) -> bool:
    if not file:
        return False
    try:
        return Path(file).resolve().is_relative_to(folder)
    except OSError:
        return False


__all__ = ["COMPLETED", "isolated_run", "run_report", "verdicts_of"]
