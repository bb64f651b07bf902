"""Offline FHIR R4 validation: packages, snapshots, profiles, invariants, terminology.

    from conformance.fhir import default_validator, Validator
    v = default_validator()                 # shipped packages + user-installed ones, loaded once per process
    issues = v.validate(bundle, profiles=["http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"])
    v.packages                              # [PackageInfo(name, version, sha256, path)]
    v.validate_json(data)                   # FHIR JSON text: issues with line/column
    validate_xml(v, data)                   # FHIR XML text (hostile XML refused, XML-only rules)
    resource, positions, issues = parse_fhir_xml(data)   # FHIR XML -> the JSON model, e.g. for an adapter
    Validator(settings=Settings(any_extension=True))     # the reference validator's switches

The verdict comes from the R4 StructureDefinitions in pinned packages (profiles/packages/),
never from a model library; no network, no Java, no terminology server.
"""

from conformance.fhir.packages import PackageInfo, install_package, load_package
from conformance.fhir.settings import Settings
from conformance.fhir.validator import Validator, default_validator, reset_default_validator
from conformance.fhir.xmlreader import FhirXmlError, ParsedXml, parse_fhir_xml, validate_xml
from conformance.issues import ValidationIssue

__all__ = [
           "FhirXmlError",
           "PackageInfo",
           "ParsedXml",
           "Settings",
           "ValidationIssue",
           "Validator",
           "default_validator",
           "install_package",
           "load_package",
           "parse_fhir_xml",
           "reset_default_validator",
           "validate_xml",
]
