"""What the rule modules may ask of a validation run, as Protocols.

`plan`, `slicing`, `checks`, `bindings`, `extensions` and `references` need the run that is
walking an instance (to resolve a reference, test a slice's profile, evaluate FHIRPath) and the
validator behind it (compiled structures, terminology). They type against these Protocols instead
of importing `run` / `validator`, which import them: so the import graph of `conformance/fhir`
has no circle (tests/fhir/test_import_graph.py checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.settings import Settings
    from conformance.fhir.structure import CompiledStructure, Constraint, Elem
    from conformance.issues import ValidationIssue


class ValidatorContext(Protocol):
    """The definitions side: what a `Validator` offers the walk."""

    defs: Any
    terminology: Any
    fhirpath: Any

    def structure(self, url: str) -> CompiledStructure | None: ...

    def target_types(self, targets: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]: ...

    def resource_types(self) -> frozenset[str]: ...

    def global_profiles(self) -> dict[str, tuple[str, ...]]: ...


class RunContext(Protocol):
    """The instance side: one `validate()` call walking one resource tree."""

    v: ValidatorContext
    settings: Settings
    bundles: list[Any]
    resources: list[tuple[dict[str, Any], str]]
    hosts: list[tuple[Elem, str, Any]]

    def conforms(self, res: dict[str, Any], url: str, loc: str) -> bool: ...

    def profile_issues(self, res: dict[str, Any], url: str, loc: str) -> list[ValidationIssue]: ...

    def resource(self, res: dict[str, Any], loc: str, extra_profiles: tuple[str, ...] = (), *,
                 requested: bool = False, out: list[ValidationIssue] | None = None) -> None: ...

    def _structure_for(self, elem: Elem, type_code: str) -> tuple[Elem, str]: ...

    def _is_resource_type(self, code: str) -> bool: ...

    def _profile_type(self, url: str) -> str | None: ...

    def _resolve(self, ref: str) -> tuple[dict[str, Any], str] | None: ...

    def _member_of(self, value: Any, vs: str) -> bool | None: ...

    def _object(self, obj: dict[str, Any], elem: Elem, container: Elem, type_code: str, loc: str,
                sink: list[ValidationIssue], *, is_resource: bool = False, host: Elem | None = None,
                checks: tuple[tuple[Constraint, Any], ...] | None = None) -> None: ...

    def _fhirpath(self, c: Constraint, node: Any, elem: Elem, tcode: str, is_resource: bool,
                  primitive: bool) -> bool: ...
