"""report.json: write it, read it back, and check it against the published schema."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from conformance.errors import UsageError

REPORT_FILE = "report.json"


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    """The JSON Schema every report.json obeys (shipped as package data)."""
    text = resources.files("conformance.report").joinpath("schema/report.schema.json").read_text("utf-8")
    return json.loads(text)


def schema_errors(doc: Any) -> list[str]:
    """Every schema violation as 'path: message' (empty when the document is valid)."""
    validator = jsonschema.Draft202012Validator(report_schema())
    out = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        where = "/" + "/".join(str(p) for p in err.absolute_path)
        out.append(f"{where}: {err.message}")
    return out


def dumps(doc: Any) -> str:
    """Stable, human-diffable JSON (UTF-8, two-space indent, key order kept)."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_json(doc: dict[str, Any], directory: Path) -> Path:
    errors = schema_errors(doc)
    if errors:  # a bug in a writer, never the user's fault: refuse to publish an invalid report
        raise ValueError("report does not match report.schema.json:\n  " + "\n  ".join(errors[:20]))
    path = directory / REPORT_FILE
    path.write_text(dumps(doc), encoding="utf-8")
    return path


def load_report(path: Path | str) -> dict[str, Any]:
    """Read a report.json (or the report.json inside a report directory) and check it against the schema.

    A report of schema 1.0.0 is upgraded in memory (see `conformance.report.upgrade`).
    Raises UsageError naming the file and the JSON path of the first problems.
    """
    path = Path(path)
    if path.is_dir():
        path = path / REPORT_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such report (hint: give a report directory or its report.json)") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise UsageError(f"{path}: not an ehds-conformance report (no schema_version)")
    from conformance.report.upgrade import upgrade

    doc = upgrade(doc)  # a baseline written by an older harness is read as the current schema
    errors = schema_errors(doc)
    if errors:
        more = f"\n  ... and {len(errors) - 5} more" if len(errors) > 5 else ""
        raise UsageError(
            f"{path}: does not match report schema {doc.get('schema_version')}:\n  "
            + "\n  ".join(errors[:5])
            + more
            + "\n  hint: the report was changed by hand or written by an incompatible harness version"
        )
    return doc
