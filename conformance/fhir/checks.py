"""Each invariant compiled once into the cheapest evaluator that gives the same answer as fhirpathpy.

The walker meets the same few dozen constraints on tens of thousands of nodes; deciding per node
whether a constraint is native, a walker rule, a minipath predicate or a fhirpathpy expression
costs more than evaluating most of them. `evaluator_for` makes that decision once per
(key, expression) and returns a function `(run, constraint, node, elem, tcode, is_resource,
primitive) -> bool`, which raises `EvalError` when the engine cannot evaluate the invariant.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from conformance.fhir import native
from conformance.fhir.minipath import compile_minipath
from conformance.fhir.native import GUARDED, dom_3_unmatched, native_for

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext as _Run
    from conformance.fhir.structure import Constraint, Elem

Evaluator = Callable[["_Run", "Constraint", Any, "Elem", str, bool, bool], bool]


def _fhirpath(run: _Run, c: Constraint, node: Any, elem: Elem, tcode: str, is_resource: bool, primitive: bool) -> bool:
    return run._fhirpath(c, node, elem, tcode, is_resource, primitive)


def _dom_3(run: _Run, c: Constraint, node: Any, elem: Elem, tcode: str, is_resource: bool, primitive: bool) -> bool:
    return not dom_3_unmatched(node) if isinstance(node, dict) else True


def _native(fn: Callable[[Any, Any], bool]) -> Evaluator:
    def ev(run: _Run, c: Constraint, node: Any, elem: Elem, tcode: str, is_resource: bool, primitive: bool) -> bool:
        return fn(node, run)
    return ev


def _about_contained(fn: Evaluator) -> Evaluator:
    """An invariant that holds on any object without `contained` (dom-2..dom-5 on every resource): most
    resources have none, so the answer is known without calling it."""
    def ev(run: _Run, c: Constraint, node: Any, elem: Elem, tcode: str, is_resource: bool, primitive: bool) -> bool:
        if isinstance(node, dict) and "contained" not in node:
            return True
        return fn(run, c, node, elem, tcode, is_resource, primitive)
    return ev


#: the natives that are true of an object without `contained` (each looks only below `contained`)
_CONTAINED_NATIVES = frozenset({native.dom_2, native.dom_4, native.dom_5})


def _guarded(fn: Callable[[Any, Any], bool | None]) -> Evaluator:
    """A native function for the common shapes; None from it means 'ask fhirpathpy'."""
    def ev(run: _Run, c: Constraint, node: Any, elem: Elem, tcode: str, is_resource: bool, primitive: bool) -> bool:
        ok = fn(node, run)
        return run._fhirpath(c, node, elem, tcode, is_resource, primitive) if ok is None else ok
    return ev


def _mini(pred: Callable[[Any], bool]) -> Evaluator:
    """minipath predicates are written for objects; primitives go to fhirpathpy (as before)."""
    def ev(run: _Run, c: Constraint, node: Any, elem: Elem, tcode: str, is_resource: bool, primitive: bool) -> bool:
        if isinstance(node, dict):
            return pred(node)
        return run._fhirpath(c, node, elem, tcode, is_resource, primitive)
    return ev


@cache
def evaluator_for(key: str, expression: str) -> Evaluator | None:
    """The evaluator for one invariant, or None when the walker reports it elsewhere (it never fails here)."""
    fn = native_for(key, expression)
    if fn is not None:
        return _about_contained(_native(fn)) if fn in _CONTAINED_NATIVES else _native(fn)
    guarded = GUARDED.get((key, expression))
    if guarded is not None:
        return _guarded(guarded)
    if key == "dom-3" and "descendants()" in expression and expression.startswith("contained."):
        return _about_contained(_dom_3)
    if key == "ref-1" and expression.startswith("reference.startsWith('#').not()"):
        return None  # reported by the reference rule, with the target it could not find
    pred = compile_minipath(expression)
    if pred is not None:
        return _mini(pred)
    return _fhirpath


def checks_of(elem: Elem, container: Elem) -> tuple[tuple[Constraint, Any], ...]:
    """(constraint, evaluator) pairs to run on a value of `elem` walked with `container`
    (ele-1 excluded: the walker checks it structurally; walker-reported rules dropped). Cached on the
    element per container, so the per-node cost of an element without invariants is one dict lookup."""
    cache = elem._checks
    if cache is None:
        cache = elem._checks = {}
    key = id(container)
    hit = cache.get(key)
    if hit is None:
        cons = tuple(c for c in elem.constraints if c.key != "ele-1")
        if container is not elem and container.constraints:
            keys = {c.key for c in elem.constraints}
            cons += tuple(c for c in container.constraints if c.key not in keys and c.key != "ele-1")
        pairs = ((c, evaluator_for(c.key, c.expression)) for c in cons)
        hit = cache[key] = tuple((c, fn) for c, fn in pairs if fn is not None)
    return hit
