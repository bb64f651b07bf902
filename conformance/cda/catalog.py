"""Which XML Schema and which Schematron a CDA document is checked against.

The names here are the public vocabulary of ``validate_document(schema=..., schematron=...)``
and of ``conformance validate --cda-schema/--schematron``. Files live under
``profiles/cda/`` (see its README.md for sources and licences).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from conformance.errors import UsageError
from conformance.resources import cda_dir

CDA_NS = "urn:hl7-org:v3"
SDTC_NS = "urn:hl7-org:sdtc"
PHARM_NS = "urn:hl7-org:pharm"
EPSOS_NS = "urn:epsos-org:ep:medication"

#: eHDSI / epSOS document-level templateIds (eHDSI CDA Display / pivot templates).
EHDSI_PREFIX = "1.3.6.1.4.1.12559.11.10.1.3.1.1."
TEMPLATE_PS = "1.3.6.1.4.1.12559.11.10.1.3.1.1.3"
TEMPLATE_EP = "1.3.6.1.4.1.12559.11.10.1.3.1.1.1"
TEMPLATE_ED = "1.3.6.1.4.1.12559.11.10.1.3.1.1.2"


@dataclass(frozen=True)
class SchemaSpec:
    name: str
    path: str  # relative to cda_dir()
    title: str

    @property
    def file(self) -> Path:
        return cda_dir() / self.path


@dataclass(frozen=True)
class SchematronSpec:
    name: str
    path: str
    title: str
    template_id: str

    @property
    def file(self) -> Path:
        return cda_dir() / self.path


SCHEMAS: dict[str, SchemaSpec] = {
    s.name: s
    for s in (
        SchemaSpec("cda", "schemas/hl7-cda-r2/normative/infrastructure/cda/CDA.xsd", "HL7 CDA R2 (2005 normative)"),
        SchemaSpec("cda-sdtc", "schemas/hl7-cda-r2/sdtc/infrastructure/cda/CDA_SDTC.xsd",
                   "HL7 CDA R2 with SDTC extensions (urn:hl7-org:sdtc)"),
        SchemaSpec("ehdsi", "schemas/ehdsi/CDA_Pharma.xsd",
                   "eHDSI CDA (MyHealth@EU): CDA R2 + pharmacy extensions urn:hl7-org:pharm"),
        SchemaSpec("epsos", "schemas/epsos-legacy/CDA_extended.xsd",
                   "legacy epSOS extended CDA: pharmacy extensions urn:epsos-org:ep:medication"),
    )
}

SCHEMATRONS: dict[str, SchematronSpec] = {
    s.name: s
    for s in (
        SchematronSpec("ehdsi-ps", "schematron/ehdsi/PatientSummary.sch", "eHDSI Patient Summary (pivot)",
                       TEMPLATE_PS),
        SchematronSpec("ehdsi-ep", "schematron/ehdsi/ePrescription.sch", "eHDSI ePrescription (pivot)", TEMPLATE_EP),
        SchematronSpec("ehdsi-ed", "schematron/ehdsi/eDispensation.sch", "eHDSI eDispensation (pivot)", TEMPLATE_ED),
    )
}

#: Friendlier aliases, including the EHDS priority-category names.
SCHEMATRON_ALIASES: dict[str, str] = {
    "patient-summary": "ehdsi-ps", "ps": "ehdsi-ps",
    "eprescription": "ehdsi-ep", "ep": "ehdsi-ep",
    "edispensation": "ehdsi-ed", "ed": "ehdsi-ed",
}
SCHEMA_ALIASES: dict[str, str] = {"sdtc": "cda-sdtc", "pharm": "ehdsi", "epsos-legacy": "epsos", "hl7": "cda"}


def _unknown(kind: str, name: str, known: list[str]) -> UsageError:
    from conformance.suggest import did_you_mean

    close = did_you_mean(name, known)
    hint = f" Did you mean {close!r}?" if close else ""
    return UsageError(f"unknown CDA {kind} {name!r}.{hint} Known: {', '.join(sorted(known))}")


def schema_spec(name: str) -> SchemaSpec:
    key = SCHEMA_ALIASES.get(name, name)
    if key not in SCHEMAS:
        raise _unknown("schema", name, [*SCHEMAS, *SCHEMA_ALIASES])
    return SCHEMAS[key]


def schematron_spec(name: str) -> SchematronSpec:
    key = SCHEMATRON_ALIASES.get(name, name)
    if key not in SCHEMATRONS:
        raise _unknown("schematron", name, [*SCHEMATRONS, *SCHEMATRON_ALIASES, "none"])
    return SCHEMATRONS[key]


def namespaces_used(tree: etree._ElementTree) -> set[str]:
    """Namespaces of elements and attributes actually present (declared-but-unused ones
    must not pull in an extension schema)."""
    used: set[str] = set()
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        ns = etree.QName(el).namespace
        if ns:
            used.add(ns)
        for attr in el.attrib:
            if attr.startswith("{"):
                used.add(attr[1:].partition("}")[0])
    return used


def document_template_ids(tree: etree._ElementTree) -> list[str]:
    root = tree.getroot()
    return [t.get("root", "") for t in root.findall(f"{{{CDA_NS}}}templateId")]


def choose_schema(tree: etree._ElementTree) -> tuple[str, str]:
    """Pick a schema name from the document; returns (name, why) so the choice can be reported."""
    used = namespaces_used(tree)
    if EPSOS_NS in used:
        return "epsos", f"uses the legacy epSOS pharmacy namespace {EPSOS_NS}"
    if PHARM_NS in used:
        return "ehdsi", f"uses the eHDSI pharmacy namespace {PHARM_NS}"
    if SDTC_NS in used:
        return "cda-sdtc", f"uses SDTC extensions ({SDTC_NS})"
    if any(t.startswith(EHDSI_PREFIX) for t in document_template_ids(tree)):
        return "ehdsi", "declares an eHDSI document templateId"
    return "cda", "is plain CDA R2 (no extension namespace, no eHDSI templateId)"


def choose_schematrons(tree: etree._ElementTree) -> list[str]:
    """eHDSI Schematrons whose document templateId the root declares (PS / eP / eD)."""
    ids = set(document_template_ids(tree))
    return [s.name for s in SCHEMATRONS.values() if s.template_id in ids]
