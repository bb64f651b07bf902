"""Turn a broken subclass of ReferenceEHR into an adapter factory the harness can load.

Every mutant module ends with ``create = mutant_factory(TheSubclass, "name")``, so
``conformance run --adapter tests.mutants.<name>:create`` runs the suite against it.
The description says which mutant it is (``describe().extra["mutant"]``) so a report
can never be mistaken for the reference's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.adapters.reference import create as create_reference
from conformance.adapters.reference.adapter import ReferenceAdapter
from conformance.adapters.reference.service import PRODUCT, ReferenceEHR


def mutant_factory(service_class: type[ReferenceEHR], name: str) -> Callable[..., ReferenceAdapter]:
    def create(config: Mapping[str, Any] | None = None) -> ReferenceAdapter:
        return create_reference(config, service_class=service_class, product=f"{PRODUCT} (mutant {name})",
                                extra={"mutant": name})

    create.__doc__ = f"Adapter factory of the broken EHR {name!r} ({service_class.__name__})."
    create.__qualname__ = create.__name__ = "create"
    return create
