"""The evidence a check leaves behind for the report.

Everything recorded is JSON-safe (it crosses pytest-xdist workers as JSON and is
written to report.json). Redaction of secrets happens when reports are written;
recorders still avoid storing credentials in the first place.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

import orjson

from conformance.issues import ValidationIssue

MAX_DOCUMENT_BYTES = 200_000  # larger documents are kept as a digest only


def _json_safe(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


class Evidence:
    """Recorder given to checks through the `evidence` fixture."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, kind: str, data: Any, *, label: str = "") -> None:
        item: dict[str, Any] = {"kind": kind}
        if label:
            item["label"] = label
        if kind == "document":
            raw = orjson.dumps(data, default=str)
            item["sha256"] = hashlib.sha256(raw).hexdigest()
            item["size"] = len(raw)
            if len(raw) <= MAX_DOCUMENT_BYTES:
                item["data"] = _json_safe(data)
        elif isinstance(data, dict):
            item.update(_json_safe(data))
        else:
            item["data"] = _json_safe(data)
        self.items.append(item)

    def note(self, text: str) -> None:
        self.items.append({"kind": "note", "text": text})

    def validation(self, issues: Iterable[ValidationIssue], *, label: str = "", limit: int = 50) -> None:
        issues = list(issues)
        shown = [i.to_json() for i in issues[:limit]]
        item: dict[str, Any] = {"kind": "validation", "issues": shown, "total": len(issues)}
        if label:
            item["label"] = label
        self.items.append(item)

    def extend(self, items: Iterable[dict[str, Any]]) -> None:
        self.items.extend(_json_safe(list(items)))
