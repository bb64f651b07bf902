"""ACME EHR's adapter for the ehds-conformance harness.

Registered as the adapter ``acme`` (entry point group ``conformance.adapters``, see
pyproject.toml), so a certification run is::

    conformance run --adapter acme --adapter-config acme.toml --strict
"""

from acme_ehr_conformance.adapter import AcmeAdapter, create

__all__ = ["AcmeAdapter", "create"]
