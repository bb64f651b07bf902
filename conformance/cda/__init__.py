"""CDA R2 validation for MyHealth@EU (eHDSI) documents: XML Schema (lxml, xmlschema to explain)
and ISO Schematron (compiled to XSLT 3.0, run by saxonche).

    from conformance.cda import validate_document
    issues = validate_document(data, schema=None, schematron=None)

Findings are :class:`conformance.issues.ValidationIssue`, the same shape as FHIR validation.
Hostile input (DTD, external entities, entity expansion), oversize and malformed documents are
answered with one ``fatal`` issue, never read past; unknown schema/Schematron names raise
:class:`conformance.errors.UsageError`.
"""

from conformance.issues import ValidationIssue

from .catalog import SCHEMAS, SCHEMATRONS, choose_schema, choose_schematrons
from .safexml import DEFAULT_MAX_BYTES, UnsafeXml, parse_untrusted
from .validate import (
    cda_in_bundle,
    compiled_schematron,
    looks_like_cda,
    run_schematron,
    validate_document,
    validate_tree,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SCHEMAS",
    "SCHEMATRONS",
    "UnsafeXml",
    "ValidationIssue",
    "choose_schema",
    "choose_schematrons",
    "compiled_schematron",
    "cda_in_bundle",
    "looks_like_cda",
    "parse_untrusted",
    "run_schematron",
    "validate_document",
    "validate_tree",
]
