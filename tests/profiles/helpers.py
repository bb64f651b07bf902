"""Small builders for profile files in tests (kept apart so test modules stay readable)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.errors import ProfileError
from conformance.profiles import load_profile

REQ = """\
  - id: {rid}
    title: A requirement
    statement: Something the system does.
    level: SHALL
    category: general
    applies_to: [all]
    references:
      - {{source: Test, section: "1"}}
"""


def profile_text(pid: str, *, extends: list[str] | None = None, reqs: list[str] | None = None,
                 extra: str = "") -> str:
    """A valid profile `pid` with requirements `reqs` (ids) and `extends`."""
    head = textwrap.dedent(f"""\
        id: {pid}
        version: "1.0.0"
        title: Test profile {pid}
        description: A profile written by a test.
        fhir_version: "4.0.1"
        extends: [{", ".join(extends or [])}]
        """) + extra
    ids = reqs if reqs is not None else [f"T{pid.upper()}-001"]
    if not ids:
        return head + "requirements: []\n"
    return head + "requirements:\n" + "".join(REQ.format(rid=rid) for rid in ids)


def write(directory: Path, pid: str, text: str) -> Path:
    path = directory / f"{pid}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle` (computed independently of the loader)."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not in test text"
    return hits[nth - 1]


def profile_error(path: Path, search_dirs: tuple[Path, ...] = ()) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        load_profile(path, search_dirs)
    return info.value


def assert_located(err: ProfileError, path: Path, line: int, field: str | None) -> None:
    """The error names file, line and field, both as attributes and in the message a user reads."""
    text = str(err)
    assert err.path == str(path.resolve()), text
    assert err.line == line, text
    assert err.field == field, text
    assert text.startswith(f"{path.resolve()}:{line}: "), text
    if field:
        assert f"(field: {field})" in text, text
