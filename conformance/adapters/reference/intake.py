"""Reading documents the reference EHR receives: structure checks and the facts it stores.

Two jobs, kept apart from the access rules in :mod:`.service`:

- :func:`structural_issues` / :func:`cda_structural_issues` say what is wrong with an
  input in the harness's one finding shape (:class:`~conformance.issues.ValidationIssue`,
  FHIRPath or XPath location, a fix hint in the message). They are the minimum the
  EHR needs to file a document: its patient, its category, where it comes from.
  Full profile validation (FHIR StructureDefinitions, CDA schema + Schematron) is
  added on top by the service when those validators are installed.
- :func:`read_fhir` / :func:`read_cda` pull out those facts into a :class:`Incoming`.
  They are lenient (they never raise on odd input) because a broken-adapter mutant
  uses them to store an invalid document on purpose.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from conformance.issues import ValidationIssue

from conformance.categories import CATEGORY_BY_LOINC, LOINC, LOINC_BY_CATEGORY, LOINC_OID  # noqa: E402,F401

CDA_NS = "urn:hl7-org:v3"
SOURCE = "ehds-conformance reference EHR"

#: Codes of the required bindings the structural check enforces (FHIR R4 value sets).
BUNDLE_TYPES = frozenset({"document", "message", "transaction", "transaction-response", "batch", "batch-response",
                          "history", "searchset", "collection"})
COMPOSITION_STATUS = frozenset({"preliminary", "final", "amended", "entered-in-error"})


@dataclass
class Incoming:
    """What the EHR files about a received document."""

    format: str  # "fhir" | "cda"
    content: bytes = field(repr=False)
    category: str = ""
    title: str = ""
    date: str = ""
    patient_identifiers: list[tuple[str, str]] = field(default_factory=list)
    family: str = ""
    given: str = ""
    birth_date: str = ""
    patient_resource: dict[str, Any] = field(default_factory=dict, repr=False)
    origin_identifier: str = ""  # system|value of the custodian organisation
    origin_name: str = ""


def _issue(location: str, message: str, rule: str, code: str = "structure") -> ValidationIssue:
    return ValidationIssue("error", code, location, message, rule, SOURCE)


# ---- FHIR ----------------------------------------------------------------------------


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    entries = bundle.get("entry")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _resolver(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Keys a reference may use to point at an entry: its fullUrl, and Type/id."""
    out: dict[str, dict[str, Any]] = {}
    for entry in _entries(bundle):
        res = entry.get("resource")
        if not isinstance(res, dict):
            continue
        if isinstance(entry.get("fullUrl"), str):
            out[entry["fullUrl"]] = res
        if res.get("resourceType") and res.get("id"):
            out[f"{res['resourceType']}/{res['id']}"] = res
    return out


def resolve(bundle: dict[str, Any], reference: Any) -> dict[str, Any] | None:
    """The entry resource a Reference points at inside the bundle, or None."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    ref = reference["reference"]
    table = _resolver(bundle)
    if ref in table:
        return table[ref]
    # an absolute URL ending in Type/id, e.g. http://example.org/fhir/Patient/1
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2:
        return table.get(f"{parts[-2]}/{parts[-1]}")
    return None


def _references(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(FHIRPath location, reference string) for every Reference.reference below node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield path, value
            elif isinstance(value, (dict, list)):
                yield from _references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _references(value, f"{path}[{i}]")


def _codes(concept: Any, system: str) -> list[str]:
    if not isinstance(concept, dict):
        return []
    return [str(c.get("code")) for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("system") == system]


def _identifiers(resource: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for ident in resource.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
            out.append((str(ident["system"]), str(ident["value"])))
    return out


def fhir_category(composition: dict[str, Any]) -> str:
    """The priority category of a Composition from its LOINC type, '' when none matches."""
    for code in _codes(composition.get("type"), LOINC):
        if code in CATEGORY_BY_LOINC:
            return CATEGORY_BY_LOINC[code]
    return ""


def structural_issues(bundle: Any) -> list[ValidationIssue]:
    """What keeps a FHIR input from being filed as a priority-category document.

    Checked: it is a Bundle of type document with identifier (bdl-9) and timestamp
    (bdl-10); the first entry is a Composition with status, type, date, title and
    author; its type is the LOINC code of a priority category; its subject resolves to
    a Patient with a business identifier; every reference resolves inside the bundle;
    fullUrls are unique (bdl-7).
    """
    if not isinstance(bundle, dict):
        return [_issue("", f"expected a FHIR JSON object, got {type(bundle).__name__}", "json-object",
                       code="invalid")]
    issues: list[ValidationIssue] = []
    if bundle.get("resourceType") != "Bundle":
        return [_issue("resourceType", f"resourceType is {bundle.get('resourceType')!r}; send a Bundle of type "
                       "'document' whose first entry is a Composition", "document-bundle")]
    if not isinstance(bundle.get("type"), str) or bundle.get("type") not in BUNDLE_TYPES:
        issues.append(_issue("Bundle.type", f"Bundle.type {bundle.get('type')!r} is not a code of the required "
                             "value set http://hl7.org/fhir/ValueSet/bundle-type", "Bundle.type", code="code-invalid"))
    elif bundle.get("type") != "document":
        issues.append(_issue("Bundle.type", f"Bundle.type is {bundle.get('type')!r}; a document must have type "
                             "'document'", "document-bundle"))
    ident = bundle.get("identifier")
    if not (isinstance(ident, dict) and ident.get("system") and ident.get("value")):
        issues.append(_issue("Bundle.identifier", "a document needs an identifier with system and value (bdl-9)",
                             "bdl-9", code="required"))
    if not bundle.get("timestamp"):
        issues.append(_issue("Bundle.timestamp", "a document needs a timestamp (bdl-10)", "bdl-10", code="required"))
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        issues.append(_issue("Bundle.entry", "a document has at least one entry, the Composition first",
                             "document-bundle", code="required"))
        return issues
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        loc = f"Bundle.entry[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict) or \
                not entry["resource"].get("resourceType"):
            issues.append(_issue(f"{loc}.resource", "every entry carries a resource with a resourceType",
                                 "bdl-entry-resource", code="required"))
            continue
        url = entry.get("fullUrl")
        if isinstance(url, str):
            if url in seen:
                issues.append(_issue(f"{loc}.fullUrl", f"fullUrl {url!r} is used twice; make it unique (bdl-7)",
                                     "bdl-7", code="invariant"))
            seen.add(url)
    first = entries[0].get("resource") if isinstance(entries[0], dict) else None
    if not isinstance(first, dict) or first.get("resourceType") != "Composition":
        issues.append(_issue("Bundle.entry[0].resource", "the first entry of a document must be its Composition",
                             "document-composition-first"))
        return issues
    comp_loc = "Bundle.entry[0].resource"
    for name in ("status", "type", "date", "title"):
        if not first.get(name):
            issues.append(_issue(f"{comp_loc}.{name}", f"Composition.{name} is required (1..1)", "Composition." + name,
                                 code="required"))
    if first.get("status") and first["status"] not in COMPOSITION_STATUS:
        issues.append(_issue(f"{comp_loc}.status", f"Composition.status {first['status']!r} is not one of "
                             f"{sorted(COMPOSITION_STATUS)} (required binding composition-status)",
                             "Composition.status", code="code-invalid"))
    if not first.get("author"):
        issues.append(_issue(f"{comp_loc}.author", "Composition.author is required (1..*)", "Composition.author",
                             code="required"))
    if first.get("type") and not fhir_category(first):
        codes = [f"{c.get('system')}|{c.get('code')}" for c in (first["type"].get("coding") or [])
                 if isinstance(c, dict)]
        issues.append(_issue(f"{comp_loc}.type", f"Composition.type {codes or '(no coding)'} is not the LOINC code "
                             "of a priority category; use one of "
                             + ", ".join(f"{c} ({cat})" for c, cat in CATEGORY_BY_LOINC.items()),
                             "priority-category", code="code-invalid"))
    patient = resolve(bundle, first.get("subject"))
    if not isinstance(first.get("subject"), dict):
        issues.append(_issue(f"{comp_loc}.subject", "the document must name its patient (Composition.subject)",
                             "document-subject", code="required"))
    elif patient is None or patient.get("resourceType") != "Patient":
        issues.append(_issue(f"{comp_loc}.subject", "Composition.subject must resolve to a Patient entry of this "
                             "Bundle", "document-subject"))
    elif not _identifiers(patient):
        issues.append(_issue(f"{comp_loc}.subject", "the Patient needs an identifier with system and value so the "
                             "EHR can file the document under the right person", "patient-identifier",
                             code="required"))
    table = _resolver(bundle)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        for loc, ref in _references(entry["resource"], f"Bundle.entry[{i}].resource"):
            if ref.startswith("#"):
                continue  # contained resource
            if resolve(bundle, {"reference": ref}) is None and ref not in table:
                issues.append(_issue(loc, f"reference {ref!r} does not resolve inside the document; add the "
                                     "target as an entry (fullUrl or Type/id) or use an identifier instead",
                                     "document-references-resolve", code="not-found"))
    return issues


def _org_facts(org: dict[str, Any] | None, reference: Any) -> tuple[str, str]:
    """(system|value, name) of an Organization resource or a logical reference to one."""
    if isinstance(org, dict) and org.get("resourceType") == "Organization":
        idents = _identifiers(org)
        if idents:
            return f"{idents[0][0]}|{idents[0][1]}", str(org.get("name", ""))
    if isinstance(reference, dict) and isinstance(reference.get("identifier"), dict):
        ident = reference["identifier"]
        if ident.get("system") and ident.get("value"):
            return f"{ident['system']}|{ident['value']}", str(reference.get("display", ""))
    return "", ""


def read_fhir(bundle: dict[str, Any]) -> Incoming:
    """The facts of a FHIR document Bundle (lenient: missing parts stay empty)."""
    content = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    entries = _entries(bundle)
    first = entries[0].get("resource") if entries else None
    comp: dict[str, Any] = first if isinstance(first, dict) and first.get("resourceType") == "Composition" else {}
    patient = resolve(bundle, comp.get("subject")) or next(
        (e["resource"] for e in entries if isinstance(e.get("resource"), dict)
         and e["resource"].get("resourceType") == "Patient"), {})
    name = (patient.get("name") or [{}])[0] if isinstance(patient.get("name"), list) else {}
    name = name if isinstance(name, dict) else {}
    origin = _org_facts(resolve(bundle, comp.get("custodian")), comp.get("custodian"))
    if not origin[0]:
        for author in comp.get("author") or []:
            target = resolve(bundle, author)
            if isinstance(target, dict) and target.get("resourceType") == "PractitionerRole":
                target = resolve(bundle, target.get("organization"))
            origin = _org_facts(target, author)
            if origin[0]:
                break
    return Incoming(
        format="fhir", content=content, category=fhir_category(comp), title=str(comp.get("title", "")),
        date=str(comp.get("date", "")), patient_identifiers=_identifiers(patient),
        family=str(name.get("family", "")), given=" ".join(str(g) for g in name.get("given") or []),
        birth_date=str(patient.get("birthDate", "")), patient_resource=dict(patient),
        origin_identifier=origin[0], origin_name=origin[1],
    )


# ---- CDA -----------------------------------------------------------------------------


def _parse_xml(data: bytes) -> Any:
    """The root element; refuses DTDs, external entities and oversize input (conformance.cda.safexml)."""
    from conformance.cda.safexml import parse_untrusted

    return parse_untrusted(data).getroot()


def cda_structural_issues(data: bytes) -> list[ValidationIssue]:
    """Well-formedness and the header facts the EHR needs from a CDA document."""
    from lxml import etree

    from conformance.cda.safexml import UnsafeXml

    try:
        root = _parse_xml(data)
    except UnsafeXml as exc:
        line = getattr(exc, "line", None)
        return [_issue(f"line {line}" if line else "/", str(exc), "xml-untrusted", code=exc.code)]
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        return [_issue(f"line {line}" if line else "/", f"not well-formed XML: {exc.msg}; fix the XML syntax",
                       "xml-well-formed", code="invalid")]
    if root.tag != f"{{{CDA_NS}}}ClinicalDocument":
        return [_issue(f"/{etree.QName(root).localname}", f"root element is {root.tag}; a CDA document has root "
                       f"{{{CDA_NS}}}ClinicalDocument", "cda-root")]
    facts = read_cda(data)
    issues: list[ValidationIssue] = []
    if not facts.category:
        issues.append(_issue("/ClinicalDocument/code", "ClinicalDocument/code must be the LOINC code of a priority "
                             "category (e.g. 60591-5 for a patient summary)", "priority-category",
                             code="code-invalid"))
    if not facts.patient_identifiers:
        issues.append(_issue("/ClinicalDocument/recordTarget/patientRole/id", "the patient needs an id with @root "
                             "(and @extension) so the EHR can file the document", "patient-identifier",
                             code="required"))
    return issues


def read_cda(data: bytes) -> Incoming:
    """The facts of a CDA document's header (lenient)."""
    try:
        root = _parse_xml(data)
    except Exception:  # noqa: BLE001 - lenient by design, see the module docstring
        return Incoming(format="cda", content=bytes(data))
    ns = {"h": CDA_NS}

    def first(path: str) -> Any:
        found = root.xpath(path, namespaces=ns)
        return found[0] if found else None

    category = ""
    code = first("h:code")
    if code is not None and code.get("code") in CATEGORY_BY_LOINC:
        category = CATEGORY_BY_LOINC[code.get("code")]
    idents = []
    for el in root.xpath("h:recordTarget/h:patientRole/h:id", namespaces=ns):
        if el.get("root"):
            if el.get("extension"):
                idents.append((f"urn:oid:{el.get('root')}", el.get("extension")))
            else:
                idents.append(("urn:ietf:rfc:3986", f"urn:oid:{el.get('root')}"))
    family = " ".join(t.strip() for t in root.xpath(
        "h:recordTarget/h:patientRole/h:patient/h:name[1]/h:family/text()", namespaces=ns))
    given = " ".join(t.strip() for t in root.xpath(
        "h:recordTarget/h:patientRole/h:patient/h:name[1]/h:given/text()", namespaces=ns))
    birth = first("h:recordTarget/h:patientRole/h:patient/h:birthTime")
    birth_value = birth.get("value", "") if birth is not None else ""
    birth_date = f"{birth_value[:4]}-{birth_value[4:6]}-{birth_value[6:8]}" if len(birth_value) >= 8 else ""
    org = first("h:custodian/h:assignedCustodian/h:representedCustodianOrganization")
    origin_identifier = origin_name = ""
    if org is not None:
        oid = org.find(f"{{{CDA_NS}}}id")
        if oid is not None and oid.get("root"):
            origin_identifier = (f"urn:oid:{oid.get('root')}|{oid.get('extension')}" if oid.get("extension")
                                 else f"urn:ietf:rfc:3986|urn:oid:{oid.get('root')}")
        origin_name = " ".join(t.strip() for t in org.xpath("h:name/text()", namespaces=ns))
    title = " ".join(t.strip() for t in root.xpath("h:title/text()", namespaces=ns))
    effective = first("h:effectiveTime")
    date = _cda_date(effective.get("value", "")) if effective is not None else ""
    patient = {"resourceType": "Patient",
               "identifier": [{"system": s, "value": v} for s, v in idents],
               **({"name": [{"family": family, **({"given": given.split()} if given else {})}]} if family else {}),
               **({"birthDate": birth_date} if birth_date else {})}
    return Incoming(format="cda", content=bytes(data), category=category, title=title, date=date,
                    patient_identifiers=idents, family=family, given=given, birth_date=birth_date,
                    patient_resource=patient, origin_identifier=origin_identifier, origin_name=origin_name)


def _cda_date(ts: str) -> str:
    """A CDA TS (YYYYMMDDhhmmss+zzzz) as a FHIR dateTime (date only when no time is given)."""
    digits = ts[:14]
    sign = "+" if "+" in ts else ("-" if "-" in ts[8:] else "")
    if len(digits) >= 12 and sign:
        zone = ts.split(sign, 1)[1]
        sec = digits[12:14] or "00"
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}T{digits[8:10]}:{digits[10:12]}:{sec}{sign}{zone[:2]}:{zone[2:4]}"
    if len(digits) >= 8:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    return ""


def cda_as_bundle(content: bytes, *, document_id: str, patient: dict[str, Any], category: str, title: str,
                  date: str, origin_identifier: str, origin_name: str, timestamp: str) -> dict[str, Any]:
    """A FHIR document Bundle carrying a stored CDA document unchanged (as a Binary).

    The EHR does not transform CDA into FHIR resources; the export says so in the
    Composition's narrative and keeps the original bytes, so nothing is lost.
    """
    org_system, _, org_value = origin_identifier.partition("|")
    org_entry = {"fullUrl": f"urn:uuid:{_uuid(document_id, 'org')}", "resource": {
        "resourceType": "Organization", "id": _uuid(document_id, "org"),
        **({"identifier": [{"system": org_system, "value": org_value}]} if org_value else {}),
        "name": origin_name or "unknown custodian"}}
    pat_entry = {"fullUrl": f"urn:uuid:{_uuid(document_id, 'patient')}",
                 "resource": {**patient, "id": _uuid(document_id, "patient")}}
    bin_entry = {"fullUrl": f"urn:uuid:{_uuid(document_id, 'binary')}", "resource": {
        "resourceType": "Binary", "id": _uuid(document_id, "binary"), "contentType": "application/hl7-v3+xml",
        "data": base64.b64encode(content).decode("ascii")}}
    code = LOINC_BY_CATEGORY.get(category, "")
    composition = {
        "resourceType": "Composition", "id": _uuid(document_id, "composition"), "status": "final",
        "type": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": pat_entry["fullUrl"]}, "date": date or timestamp,
        "author": [{"reference": org_entry["fullUrl"]}], "title": title or category,
        "custodian": {"reference": org_entry["fullUrl"]},
        "section": [{
            "title": "Original CDA document",
            "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">The original CDA '
                     "document is attached unchanged.</div>"},
            "entry": [{"reference": bin_entry["fullUrl"]}],
        }],
    }
    return {
        "resourceType": "Bundle", "type": "document",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{_uuid(document_id, 'bundle')}"},
        "timestamp": timestamp,
        "entry": [{"fullUrl": f"urn:uuid:{_uuid(document_id, 'composition')}", "resource": composition},
                  pat_entry, org_entry, bin_entry],
    }


def _uuid(seed: str, part: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ehds-conformance:{seed}:{part}"))
