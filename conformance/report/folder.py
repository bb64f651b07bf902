"""A run folder is written once: never overwritten by accident, never unsigned behind the signer's back.

Why: reusing `--run-id` (or rendering into an existing folder) used to replace a
report in place and delete its `manifest.jws`, so a signed certification report
could silently become an unsigned, different one. Now:

- a folder that holds anything is refused (`ReportExists`, a UsageError: exit 2);
- `force=True` replaces the harness's own artefacts (nothing else in the folder),
  so the new manifest does not list files of the old run;
- a signed folder is refused even with `force`: the signature vouches for the old
  content, and only its signer may decide to give it up (delete `manifest.jws`
  and sign again with `conformance report sign`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conformance.errors import UsageError
from conformance.report.manifest import MANIFEST_FILE, SIGNATURE_FILE

#: what the report writers put in a run folder (see conformance.report.WRITERS)
ARTEFACTS = ("report.json", "report.html", "junit.xml", "allure-results", "testreport.json", "summary.md",
             MANIFEST_FILE)


class ReportExists(UsageError):
    """The report folder already holds a report (exit code 2)."""


def check_folder(directory: Path, *, force: bool = False) -> list[str]:
    """Raise `ReportExists` if a report may not be written into `directory` (see the module docstring);
    else return the names already in it. Changes nothing: a preflight can call it before a run."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ReportExists(f"{directory}: exists and is not a directory")
    present = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
    if present and (directory / SIGNATURE_FILE).exists():
        raise ReportExists(
            f"{directory}: holds a signed report ({SIGNATURE_FILE}); refusing to overwrite it, even with --force\n"
            "  hint: write the new report to another folder (a new --run-id); to give up the signature, delete "
            f"{SIGNATURE_FILE} yourself and sign the new report with `conformance report sign`"
        )
    if present and not force:
        shown = ", ".join(present[:5]) + (" ..." if len(present) > 5 else "")
        raise ReportExists(
            f"{directory}: already holds a report ({shown}); refusing to overwrite it\n"
            "  hint: choose a new --run-id / output folder, or pass --force to replace it"
        )
    return present


def prepare_folder(directory: Path, *, force: bool = False) -> None:
    """Make `directory` ready for a new report, or refuse (see the module docstring)."""
    present = check_folder(directory, force=force)
    for name in ARTEFACTS if present else ():
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    directory.mkdir(parents=True, exist_ok=True)
