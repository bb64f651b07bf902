"""validate_document: safe parse, then XML Schema, then Schematron, as one list of findings."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from lxml import etree

from conformance.issues import ValidationIssue

from . import saxon
from .catalog import CDA_NS, choose_schema, choose_schematrons, document_template_ids, schema_spec, schematron_spec
from .paths import element_at_positions, element_path
from .safexml import DEFAULT_MAX_BYTES, UnsafeXml, parse_untrusted
from .schematron import CompiledSchematron, load_or_compile
from .xsd import explain_schema, validate_schema

_compiled: dict[tuple[str, str, bool], CompiledSchematron] = {}


def _fatal(code: str, message: str, rule: str, location: str = "") -> ValidationIssue:
    return ValidationIssue(severity="fatal", code=code, location=location, message=message, rule=rule,
                           source="conformance.cda")


def compiled_schematron(name_or_path: str, *, phase: str = "#ALL", include_success: bool = False,
                        cache: bool | Path = True) -> CompiledSchematron:
    """The compiled form of a shipped Schematron (by name) or of a .sch file (by path), memoised
    per process and cached on disk (see schematron.cache_dir())."""
    key = (name_or_path, phase, include_success)
    hit = _compiled.get(key)
    if hit is not None:
        return hit
    if name_or_path.endswith(".sch") and Path(name_or_path).is_file():
        path, name = Path(name_or_path), Path(name_or_path).stem
    else:
        spec = schematron_spec(name_or_path)
        path, name = spec.file, spec.name
    compiled = load_or_compile(path, name=name, phase=phase, include_success=include_success, cache=cache)
    _compiled[key] = compiled
    return compiled


def _schematron_source(compiled: CompiledSchematron) -> str:
    src = Path(compiled.source)
    parts = src.parts
    if "profiles" in parts:
        return "/".join(parts[parts.index("profiles"):])
    if "_profiles" in parts:
        return "profiles/" + "/".join(parts[parts.index("_profiles") + 1:])
    return src.name


@cache
def _waivers(folder: str) -> dict[tuple[str, str], dict[str, str]]:
    path = Path(folder) / "waivers.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text("utf-8"))
    return {(w["schematron"], w["rule"]): w for w in data.get("waivers", [])}


def run_schematron(tree: etree._ElementTree, name_or_path: str, *, phase: str = "#ALL",
                   include_success: bool = False, waivers: bool = True) -> list[ValidationIssue]:
    """Findings of one Schematron. With `waivers`, asserts listed in the Schematron folder's
    waivers.json (documented upstream defects) are reported as warnings marked "waived"."""
    compiled = compiled_schematron(name_or_path, phase=phase, include_success=include_success)
    source = _schematron_source(compiled)
    waived = _waivers(str(Path(compiled.source).parent)) if waivers else {}
    issues: list[ValidationIssue] = []
    seen: set[tuple[str, str, str]] = set()
    for raw in saxon.run(compiled, tree):
        info = compiled.asserts[raw.index]
        positions, _, attr = raw.positions.partition("/@")
        el = element_at_positions(tree, positions) if positions else None
        if el is not None:
            location = element_path(el) + (f"/@{attr}" if attr else "")
            where = f"line {el.sourceline}: " if el.sourceline else ""
        else:
            location, where = "/", ""
        message = raw.message.replace("Â§", "§")  # upstream ART-DECOR text has a double-encoded section sign
        key = (info.rule_id, location, message)
        if key in seen:
            continue
        seen.add(key)
        if raw.raised:
            issues.append(ValidationIssue(
                severity="error", code="processing", location=location,
                message=f"{where}Schematron rule could not be evaluated (XPath error) for test {info.test!r} "
                        f"in context {info.context!r}; the rule is treated as failed ({compiled.name})",
                rule=info.rule_id, source=source))
            continue
        severity = info.severity
        waiver = waived.get((compiled.name, info.rule_id))
        if waiver is not None and waiver.get("test") == info.test and severity in ("error", "fatal"):
            severity = "warning"
            message = f"[waived upstream defect: {waiver['reason']}] {message}"
        code = "informational" if severity == "information" else "invariant"
        issues.append(ValidationIssue(
            severity=severity, code=code, location=location,  # type: ignore[arg-type]
            message=f"{where}{message} (Schematron {compiled.name})", rule=info.rule_id, source=source))
    return issues


def _schematron_names(spec: str | None, tree: etree._ElementTree) -> tuple[list[str], ValidationIssue | None]:
    if spec is None:
        names = choose_schematrons(tree)
        if not names:
            ids = ", ".join(document_template_ids(tree)) or "(none)"
            note = ValidationIssue(
                severity="information", code="informational", location="/ClinicalDocument",
                message=f"no eHDSI Schematron applies to the document templateIds [{ids}] (patient summary, "
                        "ePrescription and eDispensation have one): only the XML Schema was checked",
                rule="cda-schematron-choice", source="conformance.cda")
            return [], note
        return names, None
    if spec.strip().lower() == "none":
        return [], None
    return [s.strip() for s in spec.split(",") if s.strip()], None


def validate_tree(tree: etree._ElementTree, *, schema: str | None = None, schematron: str | None = None,
                  explain: bool = False, phase: str = "#ALL", include_success: bool = False,
                  waivers: bool = True) -> list[ValidationIssue]:
    """Validate an already safely-parsed document (see :func:`validate_document`)."""
    root = tree.getroot()
    if root.tag != f"{{{CDA_NS}}}ClinicalDocument":
        q = etree.QName(root)
        return [_fatal("structure",
                       f"root element is {{{q.namespace or ''}}}{q.localname}, not {{{CDA_NS}}}ClinicalDocument: "
                       "not a CDA document. Fix: send a CDA R2 ClinicalDocument (FHIR documents are validated "
                       "by the FHIR validator).", "cda-root", location="/" + q.localname)]
    issues: list[ValidationIssue] = []
    # Names are checked before any work, so a typo is a usage error, not a half-done validation.
    if schema is not None and schema != "none":
        schema_spec(schema)
    names, note = _schematron_names(schematron, tree)
    for n in names:
        if not (n.endswith(".sch") and Path(n).is_file()):
            schematron_spec(n)

    if schema != "none":
        if schema is None:
            chosen, why = choose_schema(tree)
            issues.append(ValidationIssue(
                severity="information", code="informational", location="/ClinicalDocument",
                message=f"XML Schema {chosen!r} ({schema_spec(chosen).title}) chosen because the document {why}",
                rule="cda-schema-choice", source="conformance.cda"))
        else:
            chosen = schema
        schema_issues = validate_schema(tree, chosen)
        if explain and schema_issues:
            explained = explain_schema(tree, chosen)
            if explained:
                schema_issues = explained
            else:
                schema_issues.append(ValidationIssue(
                    severity="warning", code="processing", location="/ClinicalDocument",
                    message="xmlschema found no error where libxml2 did; the libxml2 findings above stand",
                    rule="cda-xsd-explain", source="conformance.cda"))
        issues.extend(schema_issues)
    if note is not None:
        issues.append(note)
    for n in names:
        issues.extend(run_schematron(tree, n, phase=phase, include_success=include_success, waivers=waivers))
    return issues


def validate_document(data: bytes, *, schema: str | None = None, schematron: str | None = None,
                      explain: bool = False, max_bytes: int = DEFAULT_MAX_BYTES, phase: str = "#ALL",
                      include_success: bool = False, waivers: bool = True) -> list[ValidationIssue]:
    """Validate one CDA document given as bytes.

    schema: None chooses from the document (legacy epSOS namespace -> "epsos", eHDSI pharm
      namespace or eHDSI templateId -> "ehdsi", SDTC namespace -> "cda-sdtc", else "cda");
      or a name ("cda", "cda-sdtc", "ehdsi", "epsos"); "none" skips XML Schema.
    schematron: None chooses from the root templateIds (eHDSI PS / eP / eD); "none" skips;
      a name ("ehdsi-ps", "ehdsi-ep", "ehdsi-ed", or "patient-summary"/"eprescription"/
      "edispensation"), several separated by commas, or a path to a .sch file.
    explain: re-run XML Schema failures through xmlschema to name the failing schema component.
    phase: Schematron phase ("#ALL" default). include_success: keep eHDSI "Success: ..." reports
      (information). waivers: apply profiles/cda/schematron/ehdsi/waivers.json (documented upstream
      rule defects reported as warnings, never dropped).

    Hostile or unusable input is never raised: a DTD or entity declaration (XXE, billion laughs),
    a document over `max_bytes`, or malformed XML returns exactly one issue of severity "fatal"
    (codes "security", "too-costly", "structure"), and nothing outside `data` is read.
    Unknown schema/Schematron names raise :class:`conformance.errors.UsageError`.
    """
    try:
        tree = parse_untrusted(data, max_bytes=max_bytes)
    except UnsafeXml as exc:
        rule = {"security": "cda-hostile-xml", "too-costly": "cda-size-limit"}.get(exc.code, "cda-well-formed")
        return [_fatal(exc.code, exc.message, rule)]
    return validate_tree(tree, schema=schema, schematron=schematron, explain=explain, phase=phase,
                         include_success=include_success, waivers=waivers)


_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)[\s/>]")


def looks_like_cda(data: bytes) -> bool:
    """True when the first element of `data` is named ClinicalDocument: a cheap sniff (no XML
    parser runs, so it is safe on hostile input) for callers that route XML between FHIR and CDA.
    Comments, processing instructions and a DOCTYPE before the root are skipped."""
    head = bytes(data[:65536])
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    pos = 0
    while True:
        m = _FIRST_TAG.search(head, pos)
        if not m:
            return False
        prefix = head[:m.start()]
        if prefix.count(b"<!--") > prefix.count(b"-->") or prefix.count(b"<!DOCTYPE") and b"]>" not in prefix:
            pos = m.end()
            continue
        return m.group(2) == b"ClinicalDocument"


def cda_in_bundle(bundle: dict) -> list[bytes]:
    """The CDA documents a FHIR Bundle carries (Binary resources and DocumentReference attachments,
    base64-decoded), in entry order. How an EHR hands back a CDA document through a FHIR export."""
    import base64

    found: list[bytes] = []
    for entry in bundle.get("entry") or []:
        res = (entry.get("resource") or {}) if isinstance(entry, dict) else {}
        blobs = [res.get("data")] if res.get("resourceType") == "Binary" else []
        if res.get("resourceType") == "DocumentReference":
            blobs += [(c.get("attachment") or {}).get("data") for c in res.get("content") or []]
        for blob in blobs:
            if not isinstance(blob, str):
                continue
            try:
                raw = base64.b64decode(blob, validate=True)
            except ValueError:
                continue
            if looks_like_cda(raw):
                found.append(raw)
    return found
