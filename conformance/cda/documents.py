"""eHDSI CDA documents for checks: a valid patient summary per patient, and broken variants
that each break one named layer (XML Schema, Schematron, well-formedness, XML safety).

Why here and not in the checks: the checks only say what a SUT must do; which bytes to send
is data the engine owns, like conformance.documents does for FHIR. The valid document is
built from ``profiles/cda/templates/ehdsi-ps-epsos.xml`` (derived from an OpenNCP sample, see
that folder's PROVENANCE.json), with the patient, ids and times rewritten.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from lxml import etree

from conformance.errors import UsageError
from conformance.resources import cda_dir

CDA = "urn:hl7-org:v3"
_N = {"cda": CDA}
TEMPLATE = "templates/ehdsi-ps-epsos.xml"

#: HL7 AdministrativeGender for FHIR administrative-gender codes ("unknown" -> nullFlavor UNK).
_GENDER = {"male": ("M", "Male"), "female": ("F", "Female"), "other": ("UN", "Undifferentiated")}


class _Patient(Protocol):
    identifier: str
    family: str
    given: str
    birth_date: str
    gender: str


def _oid_root(system: str) -> str:
    """CDA II/@root must be an OID or UUID; FHIR systems are urn:oid:..., urn:uuid:... or URLs.
    A URL system gets a stable UUID (v5) so the same system always maps to the same root."""
    if system.startswith("urn:oid:"):
        return system[len("urn:oid:"):]
    if system.startswith("urn:uuid:"):
        return system[len("urn:uuid:"):].upper()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, system)).upper()


def _template() -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    return etree.parse(str(cda_dir() / TEMPLATE), parser)


def ehdsi_patient_summary(patient: _Patient, *, document_id: str | None = None,
                          effective_time: datetime | None = None) -> bytes:
    """A patient summary about `patient` that is valid against the epSOS legacy schema and the
    eHDSI patient-summary Schematron (documented waivers apply; see profiles/cda/README.md)."""
    system, _, value = patient.identifier.partition("|")
    if not system or not value:
        raise UsageError(f"patient identifier {patient.identifier!r} must be 'system|value'")
    tree = _template()
    root = tree.getroot()
    when = (effective_time or datetime.now(UTC)).strftime("%Y%m%d%H%M%S+0000")
    doc_ext = document_id or hashlib.sha256(f"{patient.identifier}|{when}|{uuid.uuid4()}".encode()).hexdigest()[:20]
    for el in root.findall("cda:id", _N) + root.findall(".//cda:structuredBody/cda:component/cda:section/cda:id", _N):
        if el.get("root") == "1.3.6.1.4.1.28284.6.2.4.75":
            el.set("root", "2.999.1.9")
            el.set("extension", doc_ext)
    for path in ("cda:effectiveTime", "cda:author/cda:time", "cda:legalAuthenticator/cda:time"):
        for el in root.findall(path, _N):
            el.set("value", when)
    role = root.find("cda:recordTarget/cda:patientRole", _N)
    pid = role.find("cda:id", _N)
    pid.set("root", _oid_root(system))
    pid.set("extension", value)
    person = role.find("cda:patient", _N)
    person.find("cda:name/cda:given", _N).text = patient.given
    person.find("cda:name/cda:family", _N).text = patient.family
    person.find("cda:birthTime", _N).set("value", patient.birth_date.replace("-", ""))
    gender = person.find("cda:administrativeGenderCode", _N)
    for child in list(gender):
        gender.remove(child)
    gender.attrib.clear()
    if patient.gender in _GENDER:
        code, display = _GENDER[patient.gender]
        gender.attrib.update({"code": code, "codeSystem": "2.16.840.1.113883.5.1",
                              "codeSystemName": "AdministrativeGender", "displayName": display})
    else:
        gender.set("nullFlavor", "UNK")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class BrokenCda:
    """A document that breaks exactly one layer, and how a validator names the break."""

    kind: str
    data: bytes
    expected_rule: str  # the ValidationIssue.rule conformance.cda reports for it
    what: str  # one line for evidence and failure messages


def _with(data: bytes, edit: Any) -> bytes:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(data, parser)
    edit(root)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _schema_invalid(root: etree._Element) -> None:
    title = root.find("cda:title", _N)
    bogus = etree.Element(f"{{{CDA}}}unexpectedElement")
    bogus.text = "not in the CDA schema"
    title.addnext(bogus)


def _schematron_invalid(root: etree._Element) -> None:
    # CDA R2 makes birthTime optional (schema-valid without it); eHDSI requires it.
    patient = root.find("cda:recordTarget/cda:patientRole/cda:patient", _N)
    patient.remove(patient.find("cda:birthTime", _N))


BROKEN_KINDS = ("schema-invalid", "schematron-invalid", "not-well-formed", "xxe", "billion-laughs", "external-dtd",
                "bare-doctype")


def broken_patient_summary(patient: _Patient, kind: str) -> BrokenCda:
    """A patient summary about `patient` broken in one way (see BROKEN_KINDS)."""
    valid = ehdsi_patient_summary(patient)
    if kind == "schema-invalid":
        return BrokenCda(kind, _with(valid, _schema_invalid), "xsd:SCHEMAV_ELEMENT_CONTENT",
                         "an element that the CDA schema does not allow (unexpectedElement after title)")
    if kind == "schematron-invalid":
        return BrokenCda(kind, _with(valid, _schematron_invalid), BIRTH_TIME_RULE,
                         "schema-valid, but the patient's birthTime (required by eHDSI) is missing")
    if kind == "not-well-formed":
        return BrokenCda(kind, valid[: len(valid) // 2], "cda-well-formed", "the document cut in half")
    body = valid.split(b"?>", 1)[1] if valid.startswith(b"<?xml") else valid
    if kind == "xxe":
        dtd = b'<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + dtd + body.replace(
            b"<title>Patient Summary</title>", b"<title>&xxe;</title>", 1)
        return BrokenCda(kind, data, "cda-hostile-xml", "an external entity (XXE) reading file:///etc/passwd")
    if kind == "billion-laughs":
        ents = [b'<!ENTITY l0 "lol">'] + [
            b"<!ENTITY l%d \"%s\">" % (i, b"".join(b"&l%d;" % (i - 1) for _ in range(10))) for i in range(1, 10)]
        data = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ClinicalDocument [' + b"".join(ents) + b"]>"
                + body.replace(b"<title>Patient Summary</title>", b"<title>&l9;</title>", 1))
        return BrokenCda(kind, data, "cda-hostile-xml", "nested entities expanding to 10^9 'lol's (billion laughs)")
    if kind == "external-dtd":  # no entity declared: only a reference to an external DTD to fetch
        data = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                b'<!DOCTYPE ClinicalDocument SYSTEM "http://127.0.0.1:9/cda.dtd">' + body)
        return BrokenCda(kind, data, "cda-hostile-xml", "a DOCTYPE naming an external DTD to fetch (no entity declared)")
    if kind == "bare-doctype":  # a DTD with no declaration at all: still a DTD, which CDA never needs
        data = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ClinicalDocument []>' + body
        return BrokenCda(kind, data, "cda-hostile-xml", "an (empty) internal DTD")
    raise UsageError(f"unknown broken-CDA kind {kind!r}; known: {', '.join(BROKEN_KINDS)}")


#: The eHDSI PS Schematron assert that a missing patient birthTime breaks (checked in tests/cda).
BIRTH_TIME_RULE = "p-1.3.6.1.4.1.19376.1.5.3.1.1.1-errors/rule[5]/assert[5]"
