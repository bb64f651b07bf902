"""Offline FHIR R4 validation: packages, snapshots, profiles, invariants, terminology.

    from conformance.fhir import default_validator, Validator
    v = default_validator()                 # shipped packages + user-installed ones, loaded once per process
    issues = v.validate(bundle, profiles=["http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"])
    v.packages                              # [PackageInfo(name, version, sha256, path)]

The verdict comes from the R4 StructureDefinitions in pinned packages (profiles/packages/),
never from a model library; no network, no Java, no terminology server.
"""

from conformance.fhir.packages import PackageInfo, install_package, load_package
from conformance.fhir.validator import Validator, default_validator, reset_default_validator
from conformance.issues import ValidationIssue

__all__ = [
           "PackageInfo",
           "ValidationIssue",
           "Validator",
           "default_validator",
           "install_package",
           "load_package",
           "reset_default_validator",
]
