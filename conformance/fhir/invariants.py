"""FHIRPath invariants: the ubiquitous ones natively, every other one through fhirpathpy (R4 model).

fhirpathpy 2.2.4 compiles every R4 core constraint but lacks `hasValue()`, `resolve()`,
`memberOf()`, `conformsTo()` and `htmlChecks()`, fails on `dom-3`, and is too slow for
`ele-1` on every element. So: `ele-1`, `ext-1`, `dom-2..6`, `bdl-*`, `txt-*`, `ref-1` are
checked in Python (keyed by key *and* expression, so a profile redefining a key is still
evaluated as written); the missing functions are supplied to fhirpathpy; a primitive and its
extensions are one node and type names are read as the reference validator reads them on R4
(`fhirpath_r4`); expressions are compiled once and cached; and an expression the engine cannot
evaluate is reported as "not evaluated" (information), never as a pass or a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.fhir.structure import Constraint

try:  # fhirpathpy is a hard dependency, but keep import errors readable
    import fhirpathpy
    from fhirpathpy.engine.nodes import ResourceNode
    from fhirpathpy.models import models as _fp_models
except ImportError as exc:  # pragma: no cover
    raise ImportError("conformance.fhir needs fhirpathpy==2.2.4 (pip install fhirpathpy==2.2.4)") from exc

from conformance.fhir.fhirpath_r4 import install as _install_r4, r4_semantics  # noqa: E402

R4_MODEL = _fp_models["r4"]
_install_r4()

#: keys evaluated in Python by the walker itself (structure-level), with the core expressions they stand for
WALKER_KEYS = {
    "ele-1": "hasValue() or (children().count() > id.count())",
}


class EvalError(Exception):
    """The engine could not evaluate an invariant (reported as information, not as a verdict)."""


class FhirPath:
    """Compiled-expression cache plus the functions fhirpathpy lacks, bound to a per-call environment."""

    def __init__(self) -> None:
        self._compiled: dict[str, Any] = {}
        # set by the validator around each evaluation
        self.resolve_fn: Callable[[Any], Any] | None = None
        self.member_of_fn: Callable[[Any, str], bool | None] | None = None
        self.conforms_fn: Callable[[Any, str], bool | None] | None = None
        self._options = {"userInvocationTable": {
            "hasValue": {"fn": self._has_value, "arity": {0: []}},
            "resolve": {"fn": self._resolve, "arity": {0: []}},
            "memberOf": {"fn": self._member_of, "arity": {1: ["String"]}},
            "conformsTo": {"fn": self._conforms_to, "arity": {1: ["String"]}},
            "htmlChecks": {"fn": self._html_checks, "arity": {0: []}},
            "trace": {"fn": lambda inputs, *_: inputs, "arity": {0: [], 1: ["String"], 2: ["String", "Expr"]}},
        }}

    # -- functions fhirpathpy lacks -----------------------------------------------------------
    @staticmethod
    def _has_value(inputs: list[Any]) -> list[bool]:
        if len(inputs) != 1:
            return [False]
        v = inputs[0]
        return [v is not None and not isinstance(v, (dict, list))]

    def _resolve(self, inputs: list[Any]) -> list[Any]:
        out = []
        for v in inputs:
            ref = v.get("reference") if isinstance(v, dict) else v if isinstance(v, str) else None
            if ref and self.resolve_fn is not None:
                target = self.resolve_fn(ref)
                if target is not None:
                    out.append(target)
        return out

    def _member_of(self, inputs: list[Any], vs: str) -> list[bool]:
        if self.member_of_fn is None or not inputs:
            return []
        res = self.member_of_fn(inputs[0], vs)
        if res is None:
            raise EvalError(f"memberOf('{vs}') cannot be decided offline")
        return [res]

    def _conforms_to(self, inputs: list[Any], url: str) -> list[bool]:
        if self.conforms_fn is None or not inputs:
            return []
        res = self.conforms_fn(inputs[0], url)
        if res is None:
            raise EvalError(f"conformsTo('{url}'): profile unknown")
        return [res]

    @staticmethod
    def _html_checks(inputs: list[Any]) -> list[bool]:
        from conformance.fhir.xhtml import check_xhtml

        if not inputs:
            return [True]
        v = inputs[0]
        div = v.get("div") if isinstance(v, dict) else v
        return [isinstance(div, str) and not check_xhtml(div)]

    # -- evaluation ----------------------------------------------------------------------------
    def compiled(self, expression: str) -> Any:
        fn = self._compiled.get(expression)
        if fn is None:
            try:
                fn = fhirpathpy.compile(expression, R4_MODEL, self._options)
            except Exception as exc:  # noqa: BLE001 - a parser failure is data, not a crash
                fn = EvalError(f"cannot parse: {exc}")
            self._compiled[expression] = fn
        return fn

    def evaluate(self, expression: str, node: Any, type_path: str, resource: Any, root: Any) -> list[Any]:
        fn = self.compiled(expression)
        if isinstance(fn, EvalError):
            raise fn
        focus = ResourceNode.create_node(node, type_path) if not (isinstance(node, dict) and "resourceType" in node) \
            else node
        try:
            with r4_semantics():
                return fn(focus, {"resource": resource, "rootResource": root, "context": node})
        except EvalError:
            raise
        except RecursionError as exc:
            raise EvalError("expression recursion too deep") from exc
        except Exception as exc:
            raise EvalError(f"{type(exc).__name__}: {exc}") from exc

    def check(self, c: Constraint, node: Any, type_path: str, resource: Any, root: Any) -> bool:
        """True when the invariant holds. Raises EvalError when it cannot be evaluated."""
        result = self.evaluate(c.expression, node, type_path, resource, root)
        if not result:
            return False  # as the reference validator: an empty result does not satisfy an invariant
        if len(result) == 1 and isinstance(result[0], bool):
            return result[0]
        if all(isinstance(r, bool) for r in result):
            raise EvalError(f"expression returned {len(result)} booleans, expected one")
        return True  # a non-boolean, non-empty result counts as true (exists)
