"""Adapters shipped with the harness.

- :mod:`conformance.adapters.reference` — the embedded reference EHR (SQLite), the
  default system under test and the example a vendor copies.
- :mod:`conformance.adapters.fhir_rest` — any FHIR R4 server reached over HTTP.

Adapters are found by name through the ``conformance.adapters`` entry-point group
(see :func:`conformance.adapter.resolve_factory`); nothing here is imported eagerly,
so importing this package stays cheap.
"""
