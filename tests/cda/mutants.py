"""Broken reference EHRs that each get one eHDSI CDA rule wrong, to show the CDA checks can fail.

Each is an adapter factory for ``--adapter tests.cda.mutants:<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.adapters.reference import create as create_reference
from conformance.adapters.reference.service import PRODUCT, ReferenceEHR
from conformance.issues import ValidationIssue


class _SchemaOnly(ReferenceEHR):
    """Validates CDA against the XML Schema but never runs the eHDSI Schematron."""

    def _cda_validation(self, data: bytes) -> list[ValidationIssue]:
        from conformance.cda import validate_document

        return validate_document(data, schematron="none")


class _AcceptsDtd(ReferenceEHR):
    """Lets documents with a DTD through unvalidated (an XXE / billion-laughs door)."""

    def validate_document(self, document: Mapping[str, Any] | bytes) -> list[ValidationIssue]:
        if isinstance(document, (bytes, bytearray)) and b"<!DOCTYPE" in bytes(document):
            return []
        return super().validate_document(document)


class _RefusesOnlyEntities(ReferenceEHR):
    """Refuses DTDs that declare entities, lets any other DTD through (an external DTD is then fetchable)."""

    def validate_document(self, document: Mapping[str, Any] | bytes) -> list[ValidationIssue]:
        data = bytes(document) if isinstance(document, (bytes, bytearray)) else b""
        if b"<!DOCTYPE" in data and b"<!ENTITY" not in data:
            start = data.index(b"<!DOCTYPE")
            end = data.index(b">", start) + 1
            return super().validate_document(data[:start] + data[end:])  # BUG: judged as if it had no DTD
        return super().validate_document(document)


class _ExportsNoCda(ReferenceEHR):
    """Exports CDA-sourced documents as a FHIR Bundle without the CDA itself."""

    def export_document(self, document: Any) -> dict[str, Any]:
        bundle = super().export_document(document)
        bundle["entry"] = [e for e in bundle.get("entry", []) if e.get("resource", {}).get("resourceType") != "Binary"]
        return bundle


def _factory(service: type[ReferenceEHR], name: str):
    def create(config: Mapping[str, Any] | None = None):
        return create_reference(config, service_class=service, product=f"{PRODUCT} (CDA mutant {name})",
                                extra={"mutant": name})

    return create


schema_only = _factory(_SchemaOnly, "schema_only")
accepts_dtd = _factory(_AcceptsDtd, "accepts_dtd")
exports_no_cda = _factory(_ExportsNoCda, "exports_no_cda")
refuses_only_entities = _factory(_RefusesOnlyEntities, "refuses_only_entities")
