"""The embedded reference *client*: a professional's software (logiciel métier) that opens a foreign
patient's summary through the national contact point (Sesali) - the default SUT of the
``fr-sesali-client`` profile, as the reference EHR is of the EHR profiles.

``create(config)`` is registered as the ``reference-client`` adapter. Configuration (all optional;
the harness can also set both at run time through ``use_contact_point`` / ``load_terminology``):

``sesali``
    ``ncp_url`` (the contact point's FHIR base), ``psc_issuer`` (the Pro Sante Connect issuer),
    ``client_id`` (this software's PSC client id; default ``ehds-conformance-sut``).

Layout: :mod:`.client` holds every rule of the client, each a small overridable method, so a
broken client in ``tests/mutants/sesali`` differs in exactly one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference_client.client import ReferenceClient


def create(config: Mapping[str, Any] | None = None, *, client_class: type[ReferenceClient] | None = None,
           product: str | None = None, extra: Mapping[str, Any] | None = None) -> ReferenceClient:
    """Build the reference client (``client_class`` swaps in a subclass: how the mutants reuse it)."""
    from conformance.errors import UsageError

    config = dict(config or {})
    unknown = sorted(set(config) - {"sesali"})
    if unknown:
        raise UsageError(f"reference-client adapter: unknown configuration keys {unknown}; known: sesali")
    sesali = config.get("sesali") or {}
    if not isinstance(sesali, Mapping) or set(sesali) - {"ncp_url", "psc_issuer", "client_id"}:
        raise UsageError("reference-client adapter: 'sesali' must be a table with ncp_url, psc_issuer, client_id")
    client = (client_class or ReferenceClient)(product=product, extra=extra,
                                               client_id=str(sesali.get("client_id") or "ehds-conformance-sut"))
    if sesali.get("ncp_url"):
        client.use_contact_point(str(sesali["ncp_url"]), str(sesali.get("psc_issuer", "")))
    return client


__all__ = ["ReferenceClient", "create"]
