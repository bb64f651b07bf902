"""Turn the raw issues of one walk into the outcome a person reads: one issue per cause, in order.

- duplicates collapse (a resource reached as an entry, a reference target and a slice member is
  reported once per finding; one rule failing at one location is one issue, however worded);
- errors first, then warnings, then information; within a severity, document order, so the first
  error listed is the first place something is wrong, not the last consequence the walk met;
- every issue gets its line:column when the input text is known (`positions`);
- `max_issues` (0: no limit) cuts the list after the most severe ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from conformance.fhir.positions import Positions, document_order, place
from conformance.issues import SEVERITY_ORDER, ValidationIssue


def finish(issues: Iterable[ValidationIssue], root: Any, *, positions: Positions | None = None,
           max_issues: int = 0) -> list[ValidationIssue]:
    seen: set[tuple[str, str, str]] = set()
    out: list[ValidationIssue] = []
    for i in issues:
        key = (i.severity, i.location, i.rule)
        if key not in seen:
            seen.add(key)
            out.append(i)
    if positions is not None:
        placed = []
        for i in out:
            if i.line:  # placed where it was found (a repeated JSON key: at the copy, not the first)
                placed.append(i)
                continue
            line, col = place(i.location, positions)
            placed.append(dataclasses.replace(i, line=line, column=col) if line else i)
        out = placed
        out.sort(key=lambda i: (SEVERITY_ORDER.get(i.severity, 9), i.line or 1 << 30, i.column))
    else:
        # errors by their place in the document (read off the JSON object, no text needed); the many warnings
        # and information issues keep the walk's order, which is document order but for a parent's own rules
        order: dict[str, tuple[int, ...]] = {}
        keys: dict[int, dict[str, int]] = {}
        prefixes: dict[str, tuple[tuple[int, ...], Any, bool]] = {}
        for i in out:
            if i.is_error and i.location not in order:
                order[i.location] = document_order(i.location, root, keys, prefixes)
        # a stable sort: issues equal on both keep the walk's order
        out.sort(key=lambda i: (SEVERITY_ORDER.get(i.severity, 9), order.get(i.location, ())))
    if max_issues and len(out) > max_issues:
        out = out[:max_issues]
    return out


def with_positions(issues: list[ValidationIssue], positions: Positions) -> list[ValidationIssue]:
    """The same issues with line:column filled in and re-sorted by them (severity first)."""
    return finish(issues, None, positions=positions)
