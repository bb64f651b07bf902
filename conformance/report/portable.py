"""Keep the machine out of the report: no absolute path of the computer a run happened on.

Why: a report is archived, signed and handed to a certifier. An absolute path
(`/home/jane/acme/...`, `/tmp/ci-4711/reports/...`) says nothing about the SUT,
leaks user and directory names, and makes two identical runs on two machines
differ. Paths the harness itself records (FHIR package folders) are named
relative to where they live; the report folder, the working directory and the
home directory are replaced wherever they appear in a report's strings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

#: what replaces the report folder's own path in any text
REPORT_DIR = "<report-dir>"


def _roots() -> list[tuple[Path, str]]:
    """Known places, most specific first, and the label each becomes."""
    from conformance.resources import fhir_packages_dir

    out: list[tuple[Path, str]] = [(fhir_packages_dir(), "profiles/packages")]
    try:
        from conformance.fhir.packages import user_packages_dir

        out.append((user_packages_dir(), "user-packages"))
    except Exception:  # noqa: BLE001 - naming a path must never break a report
        pass
    return out


def portable_path(path: str) -> str:
    """`path` without the machine: relative to the shipped or user package folder, to the working
    directory, else only its last two parts."""
    p = Path(path)
    if not p.is_absolute():
        return path
    for root, label in _roots():
        try:
            return f"{label}/{p.relative_to(root).as_posix()}"
        except ValueError:
            continue
    try:
        return p.relative_to(Path.cwd()).as_posix() or "."
    except ValueError:
        return "/".join(p.parts[-2:])


def strip_machine_paths(data: Any, report_dir: Path | None = None) -> Any:
    """A copy of `data` where the report folder, the working directory and the home directory no
    longer appear in any string (the report folder becomes `<report-dir>`, the working directory a
    relative path, the home directory `~`)."""
    prefixes: list[tuple[str, str]] = []
    exact: dict[str, str] = {}
    if report_dir is not None:
        for form in {str(report_dir), str(Path(report_dir).resolve())}:
            if os.path.isabs(form):
                prefixes.append((form.rstrip(os.sep), REPORT_DIR))
    cwd = os.getcwd()
    home = os.path.expanduser("~")
    for place, label in ((cwd, "."), (home, "~")):
        if os.path.isabs(place) and place != os.sep:
            prefixes.append((place + os.sep, "" if label == "." else "~/"))
            exact[place] = label
    prefixes.sort(key=lambda r: -len(r[0]))
    return _replace(data, prefixes, exact)


#: a path starts the text or follows a blank, quote, bracket or `=`: never the middle of a URL or a longer path
_BEFORE = r"(?<![\w./~:@%+-])"


def _replace(data: Any, prefixes: list[tuple[str, str]], exact: dict[str, str]) -> Any:
    if isinstance(data, str):
        if data in exact:
            return exact[data]
        for old, new in prefixes:
            if old in data:
                after = "" if old.endswith(os.sep) else r"(?![\w.-])"  # /tmp/r1 is not the start of /tmp/r10
                data = re.sub(_BEFORE + re.escape(old) + after, new.replace("\\", "\\\\"), data)
        return data
    if isinstance(data, dict):
        return {k: _replace(v, prefixes, exact) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace(v, prefixes, exact) for v in data]
    return data
