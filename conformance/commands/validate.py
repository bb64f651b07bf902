"""`conformance validate FILE...`: validate FHIR R4 JSON (and CDA XML) documents offline.

The format is detected from the content: a JSON object is FHIR JSON; an XML document whose
root is in the FHIR namespace is FHIR XML (read by `conformance.fhir.xmlreader` into the same
model); a `ClinicalDocument` root in urn:hl7-org:v3 is CDA and goes to `conformance.cda`. Text
output by default, OperationOutcome JSON with `--format json`; every FHIR issue carries its
line:column. Exit 0: no errors, 1: errors, 2: bad input (unreadable file, not JSON/XML, hostile
XML, unknown profile or package) -- the same whether stdout is a terminal, a file or a pipe that
closes early (`| head`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from conformance.errors import UsageError
from conformance.issues import SEVERITY_ORDER, ValidationIssue, has_errors, operation_outcome

FHIR_NS = "http://hl7.org/fhir"
CDA_NS = "urn:hl7-org:v3"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "validate", help="validate FHIR R4 JSON / CDA XML files offline",
        description="Validate FHIR R4 resources (JSON) against the R4 base definitions, the profiles they declare "
                    "in meta.profile and any --profile; CDA documents (XML) against the CDA schema and Schematron. "
                    "No network, no terminology server: what cannot be checked offline is reported as information.")
    p.add_argument("files", nargs="+", metavar="FILE", help="FHIR JSON or CDA XML files ('-' reads stdin)")
    p.add_argument("--profile", action="append", default=[], metavar="URL",
                   help="also validate against this profile (canonical URL); repeatable")
    p.add_argument("--package", action="append", default=[], metavar="PATH",
                   help="load this FHIR package (.tgz, package folder, or a JSON conformance resource/Bundle) for "
                        "this run; repeatable")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--verbose", "-v", action="store_true", help="also list information issues (e.g. 'not checked "
                   "offline')")
    p.add_argument("--max-issues", type=int, default=0, metavar="N",
                   help="list at most N issues per file, the most severe first (default: all)")
    g = p.add_argument_group("FHIR validator settings (as the HL7 validator's switches)")
    g.add_argument("--extension-domain", action="append", default=[], metavar="URL",
                   help="allow unknown extensions whose URL starts with this prefix (warning, not error); "
                        "repeatable")
    g.add_argument("--any-extension", action="store_true", help="allow every unknown extension")
    g.add_argument("--no-example-urls", action="store_true",
                   help="refuse example.org / acme.com URLs (by default unknown extensions from them are warnings)")
    g.add_argument("--assume-valid-rest-references", action="store_true",
                   help="check the type an unresolved RESTful reference names (Patient/123) against the allowed "
                        "targets")
    g.add_argument("--check-references", choices=("ignore", "exists", "type", "valid"), default="ignore",
                   help="a reference that does not resolve inside the file must resolve (exists), to an allowed type "
                        "(type), conforming to a target profile (valid); default: ignore")
    g.add_argument("--reference-dir", action="append", default=[], metavar="FOLDER",
                   help="resources references may point to, found as FOLDER/<id>.json|xml or <Type>-<id>.json|xml "
                        "(with --check-references); repeatable")
    g.add_argument("--bundle-rule", nargs=2, action="append", default=[], metavar=("RULE", "PROFILE"),
                   help="also validate the Bundle entries RULE selects (Type, Type:n or n, n from 0) against PROFILE; "
                        "repeatable")
    g.add_argument("--vital-signs-profiles", action="store_true",
                   help="also check an Observation coded as a vital sign against that sign's core R4 profile (bp, "
                        "bodyweight...), as R4 and the HL7 reference validator do")
    g.add_argument("--no-html-in-markdown", action="store_true", help="a markdown value with HTML tags is an error")
    g.add_argument("--best-practice", choices=("ignore", "hint", "warning", "error"), default="warning",
                   help="severity of best-practice invariants such as dom-6 (default: warning)")
    g.add_argument("--display-issues-are-warnings", action="store_true",
                   help="a display that does not match the local code system is a warning, not an error")
    g.add_argument("--allow-comments", action="store_true", help="accept fhir_comments properties in JSON")
    g.add_argument("--no-check-contained", action="store_true",
                   help="do not validate contained resources against the profiles their element names")
    p.add_argument("--schema", default=None, help="CDA only: XML schema to use (see conformance.cda)")
    p.add_argument("--schematron", default=None, help="CDA only: Schematron to use (see conformance.cda)")
    p.set_defaults(func=run)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    path = Path(name)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory (hint: pass files, e.g. {name}/*.json)") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror}") from None


def detect_format(data: bytes) -> str:
    """'fhir-json', 'fhir-xml', 'cda' or 'xml' / 'unknown' from the first meaningful bytes."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return "fhir-json"
    if head[:1] == b"<":
        from lxml import etree

        from conformance.cda.safexml import UnsafeXml, refuse_dtd

        try:
            refuse_dtd(head)
        except UnsafeXml:
            return "hostile-xml"
        try:
            for _event, el in etree.iterparse(_BytesReader(head), events=("start",), resolve_entities=False,
                                               no_network=True, load_dtd=False):
                ns, _, local = el.tag.rpartition("}")
                ns = ns.lstrip("{")
                if ns == FHIR_NS:
                    return "fhir-xml"
                if ns == CDA_NS and local == "ClinicalDocument":
                    return "cda"
                return "xml"
        except etree.XMLSyntaxError:
            # not well-formed: still FHIR XML when the FHIR namespace is declared up front (the reader says where)
            return "fhir-xml" if FHIR_NS.encode() in head[:4096] and CDA_NS.encode() not in head[:4096] \
                else "bad-xml"
    return "unknown"


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        import io
        self._io = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._io.read(n)


def _json_error(name: str, data: bytes, exc: orjson.JSONDecodeError) -> UsageError:
    pos = getattr(exc, "pos", None)
    where = ""
    if isinstance(pos, int):
        line = data.count(b"\n", 0, pos) + 1
        col = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
        where = f":{line}:{col}"
    return UsageError(f"{name}{where}: not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}\n"
                      "  hint: FHIR JSON files hold one resource object, e.g. {\"resourceType\": \"Bundle\", ...}")


def settings_from(args: argparse.Namespace) -> Any:
    """The FHIR validator settings the command line asks for."""
    from conformance.fhir.settings import Settings

    return Settings(extension_domains=tuple(getattr(args, "extension_domain", ()) or ()),
                    any_extension=bool(getattr(args, "any_extension", False)),
                    allow_examples=not getattr(args, "no_example_urls", False),
                    no_html_in_markdown=bool(getattr(args, "no_html_in_markdown", False)),
                    assume_valid_rest_references=bool(getattr(args, "assume_valid_rest_references", False)),
                    check_contained=not getattr(args, "no_check_contained", False),
                    best_practice=getattr(args, "best_practice", "warning") or "warning",
                    display_severity="warning" if getattr(args, "display_issues_are_warnings", False) else "error",
                    allow_comments=bool(getattr(args, "allow_comments", False)),
                    max_issues=int(getattr(args, "max_issues", 0) or 0),
                    bundle_rules=tuple((r, p) for r, p in getattr(args, "bundle_rule", ()) or ()),
                    check_references=getattr(args, "check_references", "ignore") or "ignore",
                    vital_signs_profiles=bool(getattr(args, "vital_signs_profiles", False)))


def validate_file(name: str, data: bytes, args: argparse.Namespace, validator: Any) -> list[ValidationIssue]:
    kind = detect_format(data)
    if kind == "fhir-json":
        try:
            obj = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError as exc:
            raise _json_error(name, data, exc) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("resourceType"), str):
            raise UsageError(f"{name}: JSON is not a FHIR resource (no \"resourceType\")\n"
                             "  hint: pass one resource per file (a Bundle for documents)")
        return validator.validate_json(data, profiles=args.profile, settings=settings_from(args))
    if kind == "hostile-xml":
        from conformance.cda.safexml import UnsafeXml, refuse_dtd

        try:
            refuse_dtd(data)
        except UnsafeXml as exc:  # as for CDA: one fatal finding, before any parser runs
            return [ValidationIssue("fatal", exc.code, "", f"refused: {exc.message}", "xml.unsafe",
                                    "conformance.cda.safexml", exc.line or 0, 1 if exc.line else 0)]
    if kind == "fhir-xml":
        from conformance.fhir.xmlreader import FhirXmlError, validate_xml

        try:
            return validate_xml(validator, data, profiles=args.profile, settings=settings_from(args))
        except FhirXmlError as exc:
            raise UsageError(f"{name}{exc.where}: {exc}") from None
    if kind == "cda":
        try:
            from conformance.cda import validate_document  # lazily: CDA support is a separate module
        except ImportError as exc:
            raise UsageError(f"{name}: is a CDA document, but CDA validation (conformance.cda) is not available "
                             f"in this installation ({exc})") from None
        return validate_document(data, schema=args.schema, schematron=args.schematron)
    if kind == "bad-xml":
        raise UsageError(f"{name}: looks like XML but is not well-formed\n  hint: check the file is complete")
    if kind == "xml":
        raise UsageError(f"{name}: XML, but neither FHIR (namespace {FHIR_NS}) nor CDA (ClinicalDocument in "
                         f"{CDA_NS})")
    raise UsageError(f"{name}: neither JSON nor XML\n  hint: conformance validate takes FHIR JSON or CDA XML files")


def _make_validator(args: argparse.Namespace) -> Any:
    from conformance.fhir import Validator, default_validator

    from conformance.fhir.fetcher import folder_fetcher

    folders = getattr(args, "reference_dir", None) or []
    if folders and getattr(args, "check_references", "ignore") == "ignore":
        raise UsageError("--reference-dir is only read when references are checked\n  hint: add --check-references "
                         "exists, type or valid")
    try:
        fetchers = [folder_fetcher(folder) for folder in folders]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # reference folders belong to this run: never added to the process-wide default validator
    validator = Validator(packages=args.package, include_shipped=True) if args.package or folders \
        else default_validator()
    for fetch in fetchers:
        validator.add_reference_fetcher(fetch)
    for url in args.profile:
        if not validator.has_profile(url):
            raise UsageError(f"unknown profile {url}\n  hint: `conformance packages list` shows the loaded packages; "
                             "add the one defining it with --package or `conformance packages add`")
    return validator


def _text(name: str, issues: list[ValidationIssue], verbose: bool) -> str:
    counts = {s: sum(1 for i in issues if i.severity == s) for s in SEVERITY_ORDER}
    errors = counts["fatal"] + counts["error"]
    head = f"{name}: {'FAIL' if errors else 'OK'} - {errors} error(s), {counts['warning']} warning(s), " \
           f"{counts['information']} information"
    lines = [head]
    for i in issues:
        if i.severity == "information" and not verbose:
            continue
        at = f" ({i.line}:{i.column})" if getattr(i, "line", 0) else ""
        lines.append(f"  {i.severity:<11} {i.location or '-'}{at}\n      {i.message}  [{i.rule}]")
    if counts["information"] and not verbose:
        lines.append(f"  ({counts['information']} information issue(s) hidden; --verbose shows them)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    inputs = [(name, _read(name)) for name in args.files]
    validator = None
    results: list[tuple[str, list[ValidationIssue]]] = []
    for name, data in inputs:
        if validator is None and detect_format(data) in ("fhir-json", "fhir-xml"):
            validator = _make_validator(args)
        results.append((name, validate_file(name, data, args, validator)))
    code = 1 if any(has_errors(issues) for _n, issues in results) else 0  # decided before any output
    try:
        if args.format == "json":
            if len(results) == 1:
                out: Any = operation_outcome(results[0][1])
            else:
                out = {"resourceType": "Bundle", "type": "collection", "entry": [
                    {"fullUrl": Path(name).resolve().as_uri() if name != "-" else "urn:stdin",
                     "resource": operation_outcome(issues)} for name, issues in results]}
            sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            for name, issues in results:
                print(_text(name, issues, args.verbose))
        sys.stdout.flush()
    except BrokenPipeError:  # `conformance validate x.json | head`: the verdict stands, the rest of the text is dropped
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return code
