"""minValue / maxValue of an element: plain values, dates against a Duration relative to now, and
Quantities compared across UCUM units of one dimension. Kept out of the walk (run.py) because the
rules are pure functions of the value and the element definition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir import ucum
from conformance.fhir.dates import duration_bound_problem
from conformance.fhir.values import issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.structure import Elem
    from conformance.issues import ValidationIssue


def quantity_bounds(val: dict[str, Any], elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
    """minValueQuantity / maxValueQuantity, converting UCUM units of one dimension (g against kg)."""
    v = val.get("value")
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return
    for bound, op in ((elem.min_value, "min"), (elem.max_value, "max")):
        if bound is None or not isinstance(bound[1], dict):
            continue
        b = bound[1]
        bv = b.get("value")
        if not isinstance(bv, (int, float)):
            continue
        x, y = v, bv
        if b.get("code") and val.get("code") and b["code"] != val["code"]:
            factors = ucum.comparable(val["code"], b["code"]) if val.get("system") == b.get("system") == \
                ucum.SYSTEM else None
            if factors is None:
                continue
            x, y = v * factors[0], bv * factors[1]
        if (op == "min" and x < y) or (op == "max" and x > y):
            word = "less than the specified minValue" if op == "min" else "greater than the specified maxValue"
            sink.append(issue("error", "value", loc, f"The value in the instance ({v} {val.get('code') or ''}"
                              f") is {word} ({bv} {b.get('code') or b.get('unit') or ''}) after UCUM conversion"
                              .replace(" )", ")"), elem.id, elem.sd_url))


def min_max(val: Any, elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
    """minValue[x] / maxValue[x] on a primitive value (a Duration bound on a date counts from now)."""
    for bound, op in ((elem.min_value, "min"), (elem.max_value, "max")):
        if bound is None:
            continue
        b = bound[1]
        if bound[0] == "Duration":  # on a date: a bound relative to now
            problem = duration_bound_problem(val, b, op) if isinstance(val, str) and isinstance(b, dict) \
                else None
            if problem:
                sink.append(issue("error", "value", loc, problem, elem.id, elem.sd_url))
            continue
        try:
            bad = (val < b) if op == "min" else (val > b)
        except TypeError:
            continue
        if bad:
            sink.append(issue("error", "value", loc, f"value {val!r} is {'below the minimum' if op == 'min' else 'above the maximum'} {b!r}", elem.id, elem.sd_url))
