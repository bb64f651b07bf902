"""Turn a broken subclass of the reference client into an adapter factory (like tests/mutants/_factory.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.adapters.reference_client import create as create_client
from conformance.adapters.reference_client.client import PRODUCT, ReferenceClient


def client_mutant_factory(client_class: type[ReferenceClient], name: str) -> Callable[..., ReferenceClient]:
    def create(config: Mapping[str, Any] | None = None) -> ReferenceClient:
        return create_client(config, client_class=client_class, product=f"{PRODUCT} (mutant {name})",
                             extra={"mutant": name})

    create.__doc__ = f"Adapter factory of the broken client {name!r} ({client_class.__name__})."
    create.__qualname__ = create.__name__ = "create"
    return create
