"""A per-run memo of coded values: a Coding or CodeableConcept that repeats one met earlier in the same
validate() call, under the same element, gets the issues the first one got, moved to its own location.

Documents repeat their codes: the same category, status or unit Coding appears on every entry of a kind, and
about half of the Codings of an IPS bundle repeat one seen before in it. Walking such a value costs its
properties, its invariants, its binding and the code-system lookups; replaying costs one `orjson.dumps`.

It is only done where the issues cannot depend on anything but the value and the definitions:
- the value holds no `id`, `extension`, `modifierExtension`, `reference`, `contained` or `resourceType` key (nor a
  string of those names: the test is on the JSON text), so no duplicate-id check, extension context, reference
  resolution or resource walk runs inside it;
- the walk read nothing of the run's context: `Run.context_reads` (counted by `_fhirpath`, `conforms`,
  `_resolve` and `resource`, which look at the resources and bundles around a value) did not change;
- every issue it gave lies at or below the value's location, and no message names that location.
The key is (plan, JSON text): the plan fixes the element, type, container and invariants, the text the value
with its key order and JSON types. The memo lives in one `Run`: nothing is kept across calls.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson

from conformance.issues import ValidationIssue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.structure import Elem

#: the types whose values are memoised
CODED = frozenset({"Coding", "CodeableConcept"})
_UNSAFE = re.compile(rb'"(?:id|extension|modifierExtension|reference|contained|resourceType)"')


def walk_value(run: Any, value: dict[str, Any], elem: Elem, container: Elem, tcode: str, plan: Any,
               checks: tuple[Any, ...], shapes: dict[tuple[str, ...], Any], loc: str, sink: list[ValidationIssue]) -> None:
    """An object value of `elem` as the walker does it: its shape's walker when there is one (else
    `Run._object`), then the rules after its properties."""
    sh = shapes.get(tuple(value))
    if sh is None or sh[0] or sh[6] is None or sh[6](run, value, elem, container, tcode, loc, sink, None,
                                                      checks) is not None:
        run._object(value, elem, container, tcode, loc, sink, False, None, checks)
    if plan.post:
        run._complex_rules(value, elem, tcode, plan, loc, sink)


def walk_coded(run: Any, value: dict[str, Any], elem: Elem, container: Elem, tcode: str, plan: Any,
               checks: tuple[Any, ...], shapes: dict[tuple[str, ...], Any], loc: str,
               sink: list[ValidationIssue]) -> None:
    """`walk_value` for a Coding or CodeableConcept, through the run's memo where that is safe (see above)."""
    text = orjson.dumps(value)
    if _UNSAFE.search(text) is not None:
        walk_value(run, value, elem, container, tcode, plan, checks, shapes, loc, sink)
        return
    key = (plan, text)
    hit = run.coded.get(key)
    if hit is not None:
        cut, found = hit
        for i in found:
            sink.append(ValidationIssue(i.severity, i.code, loc + i.location[cut:], i.message, i.rule, i.source))
        return
    n, reads = len(sink), run.context_reads
    walk_value(run, value, elem, container, tcode, plan, checks, shapes, loc, sink)
    if run.context_reads == reads:
        found = tuple(sink[n:])
        if all(i.location.startswith(loc) and i.location[len(loc):len(loc) + 1] in ("", ".", "[")
               and loc not in i.message and not i.line for i in found):
            run.coded[key] = (len(loc), found)
