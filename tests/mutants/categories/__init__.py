"""Broken EHRs for the priority-category checks: each accepts one kind of invalid input.

Each mutant is the reference EHR whose *profile* validation ignores the issues of one
mutation kind (:data:`conformance.strategies.MUTATION_KINDS`); its own filing checks
(patient, category, origin) still run, so what it accepts it can store. The checks
``test_invalid_*_is_rejected[<kind>]`` (EHDS-INT-012) must catch each one: the check for
that kind fails, the checks for the other kinds still pass.

    conformance run --adapter tests.mutants.categories.accepts_missing_required:create
"""

from __future__ import annotations

from typing import NamedTuple


class CategoryMutant(NamedTuple):
    factory: str
    kind: str  # the mutation kind it accepts
    requirement: str
    description: str


def _m(name: str, kind: str, description: str, requirement: str = "EHDS-INT-012") -> tuple[str, CategoryMutant]:
    return name, CategoryMutant(f"tests.mutants.categories.{name}:create", kind, requirement, description)


CATEGORY_MUTANTS: dict[str, CategoryMutant] = dict([
    _m("accepts_missing_required", "missing-required", "ignores missing required elements (cardinality)"),
    _m("accepts_codes_outside_binding", "code-outside-binding", "ignores codes outside required value sets"),
    _m("accepts_broken_invariants", "broken-invariant", "ignores failed invariants (FHIRPath constraints)"),
    _m("accepts_dangling_references", "dangling-reference", "ignores references that do not resolve in the document"),
])

#: Export-side bugs: the document the SUT gives back is valid but does not mean what it received.
EXPORT_MUTANTS: dict[str, CategoryMutant] = dict([
    _m("rounds_quantities_on_export", "", "exported quantities lose their decimals", "EHDS-INT-008"),
])

__all__ = ["CATEGORY_MUTANTS", "EXPORT_MUTANTS", "CategoryMutant"]
