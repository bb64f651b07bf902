"""Agreement with the HL7 Java reference validator on the fhir-test-cases suite (R4 subset).

Runs the cases that need neither a terminology server nor packages we do not ship (JSON and XML
inputs, supporting files in either format), and compares with the Java validator's outcome:
- verdict: both say valid (0 errors) or both say invalid;
- location: for invalid cases, at least one expected error is reported at the same location.

Run `python tests/fhir/reference_cases.py` for the per-case table and the figure.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson

DATA = Path(__file__).resolve().parent.parent / "data" / "fhir" / "fhir-test-cases"
VALIDATOR_DIR = DATA / "validator"

#: modules left out, with the reason (what they test is not StructureDefinition validation)
EXCLUDED_MODULES = {
    "matchetype": "Java test-harness pattern matching, not validation",
    "json5": "JSON5 leniency of the Java parser",
    "logical": "logical-model instances (needs the 'logical' option)",
    "security": "security-checks mode (not implemented)",
    "dsig": "digital signatures (not implemented)",
}


@dataclass
class CaseResult:
    name: str
    step: str  # "base" or "profile"
    module: str  # the rule family (the suite's module)
    expected_errors: int
    expected_locations: list[str]
    errors: int
    locations: list[str]
    verdict_ok: bool
    location_ok: bool
    note: str = ""
    messages: list[str] = field(default_factory=list)
    fmt: str = "json"  # the input's format: json or xml
    expected_warnings: list[str] = field(default_factory=list)  # Java's warning locations (not scored)
    warnings: list[str] = field(default_factory=list)  # ours

    @property
    def agrees(self) -> bool:
        return self.verdict_ok and (self.expected_errors == 0 or self.location_ok)


def normalise(path: str) -> str:
    """Java and our locations in one form: no comments, choice names merged, no resource type casts."""
    p = re.sub(r"/\*.*?\*/", "", path)
    p = re.sub(r"\[url='[^']*'\]", "", p)  # Java's extension filter: extension[0][url='x'] is extension[0]
    p = re.sub(r"\.resource\.ofType\(\w+\)", ".resource", p)
    p = re.sub(r"\.contained\[(\d+)\]\.ofType\(\w+\)", r".contained[\1]", p)
    p = re.sub(r"\.(\w+)\.ofType\((\w)(\w*)\)", lambda m: f".{m.group(1)}{m.group(2).upper()}{m.group(3)}", p)
    p = re.sub(r"^\w+:\s*", "", p) if re.match(r"^\w+/[\w.-]+:\s", p) else p
    return p.strip()


@cache
def manifest() -> dict[str, dict[str, Any]]:
    m = orjson.loads((VALIDATOR_DIR / "manifest.json").read_bytes())
    return {t["name"]: t for t in m["test-cases"]}


@cache
def expectations() -> list[dict[str, Any]]:
    return orjson.loads((DATA / "expected-outcomes.json").read_bytes())


@cache
def input_type(rel: str) -> str:
    """The resource type at the root of a test input (JSON `resourceType`, or the XML root element's name); '' when
    the input cannot be read."""
    raw = (VALIDATOR_DIR / rel).read_bytes()
    if rel.endswith(".xml"):
        m = re.search(rb"<(?:\w+:)?(\w+)[\s>/]", re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", raw, flags=re.S))
        return m.group(1).decode() if m else ""
    try:
        doc = orjson.loads(raw.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return ""  # the fmt module's broken inputs: no type to compare, never left out
    return doc.get("resourceType", "") if isinstance(doc, dict) else ""


def misfiled(e: dict[str, Any]) -> str | None:
    """Why an expectation cannot be the Java outcome of its own input, or None.

    Upstream's manifest has entries whose inline outcome was pasted from another test: every issue of it is
    located in a resource type the input does not have (e.g. `ValueSet.compose...` for a StructureDefinition).
    No validator could produce those locations for that input, so the entry is left out and named, not
    scored. Locations of contained or bundled resources still start with the input's type."""
    paths = [x for st in ("expected_base", "expected_profile") for m in (e.get(st) or {}).get("messages") or []
             for x in m.get("expression") or []]
    roots = {m.group(0) for p in paths if (m := re.match(r"\w+", p))}
    rt = input_type(manifest()[e["name"]]["file"])
    if roots and rt and rt not in roots:
        return f"its outcome's issues are all located in {', '.join(sorted(roots))}, the input is a {rt}"
    return None


def _candidates() -> list[dict[str, Any]]:
    """The expectations of the modules and inputs this harness can run offline, with a Java outcome."""
    return [e for e in expectations()
            if not e["flags"] and e["file"].endswith((".json", ".xml")) and e["module"] not in EXCLUDED_MODULES
            and (e.get("expected_base") or {}).get("available")]


def selected_cases() -> list[dict[str, Any]]:
    return [e for e in _candidates() if not misfiled(e)]


def misfiled_cases() -> dict[str, str]:
    """The expectations `selected_cases` leaves out as pasted from another test, with the reason."""
    return {e["name"]: why for e in _candidates() if (why := misfiled(e))}


def _load_json(rel: str) -> Any:
    return orjson.loads((VALIDATOR_DIR / rel).read_bytes())


def _load_resource(rel: str) -> Any:
    """A supporting conformance resource, JSON or XML (read with our FHIR XML reader)."""
    if rel.endswith(".xml"):
        from conformance.fhir.xmlreader import parse_fhir_xml

        return parse_fhir_xml((VALIDATOR_DIR / rel).read_bytes(), _shared_validator()).resource
    return _load_json(rel)


def _errors(issues: list[Any]) -> list[Any]:
    return [i for i in issues if i.severity in ("error", "fatal")]


def _compare(name: str, step: str, module: str, expected: dict[str, Any], issues: list[Any], note: str = "", *,
             fmt: str = "json") -> CaseResult:
    exp_msgs = [m for m in expected.get("messages") or [] if m["severity"] in ("error", "fatal")]
    exp_locs = sorted({normalise(x) for m in exp_msgs for x in m.get("expression") or []})
    ours = _errors(issues)
    our_locs = sorted({normalise(i.location) for i in ours})
    n_exp = int(expected.get("errors", 0))
    verdict_ok = (n_exp == 0) == (len(ours) == 0)
    location_ok = bool(set(exp_locs) & set(our_locs)) or (n_exp > 0 and not exp_locs and bool(ours))
    exp_warnings = sorted({normalise(x) for m in expected.get("messages") or [] if m["severity"] == "warning"
                           for x in m.get("expression") or []})
    our_warnings = sorted({normalise(i.location) for i in issues if i.severity == "warning"})
    return CaseResult(name, step, module, n_exp, exp_locs, len(ours), our_locs, verdict_ok, location_ok, note,
                      [f"{i.location}: {i.message} [{i.rule}]" for i in ours], fmt, exp_warnings, our_warnings)


@cache
def _shared_validator() -> Any:
    from conformance.fhir import Validator

    return Validator()


def _validate(v: Any, rel: str, profiles: list[str]) -> list[Any]:
    """Validate one test input as the CLI would: JSON or XML by its content; unreadable input is one fatal issue."""
    from conformance.issues import ValidationIssue

    data = (VALIDATOR_DIR / rel).read_bytes()
    if rel.endswith(".xml"):
        from conformance.fhir.xmlreader import FhirXmlError, validate_xml

        try:
            return validate_xml(v, data, profiles=profiles)
        except FhirXmlError as exc:
            return [ValidationIssue("fatal", exc.code, "", str(exc), "xml.unreadable")]
    try:
        return v.validate_json(data, profiles=profiles)
    except orjson.JSONDecodeError as exc:  # the CLI reports this as unreadable input: an 'invalid' verdict
        return [ValidationIssue("fatal", "structure", "$", f"not valid JSON: {exc}", "json.syntax")]


def settings_for(t: dict[str, Any]) -> Any:
    """The validator settings a test case asks for, with the reference harness's defaults (examples allowed)."""
    from conformance.fhir.settings import Settings

    domains = t.get("allowed-extension-domain") or t.get("allowed-extension-domains") or ()
    profile_step = t.get("profile") if isinstance(t.get("profile"), dict) else {}
    bundle_param = t.get("bundle-param") if isinstance(t.get("bundle-param"), dict) else {}
    return Settings(allow_examples=bool(t.get("examples", True)),
                    bundle_rules=((bundle_param["rule"], bundle_param["profile"]),) if bundle_param else (),
                    assume_valid_rest_references=bool(t.get("assumeValidRestReferences")
                                                      or profile_step.get("assumeValidRestReferences")),
                    extension_domains=(domains,) if isinstance(domains, str) else tuple(domains),
                    no_html_in_markdown=bool(t.get("noHtmlInMarkdown", False)),
                    check_references=REFERENCE_POLICY.get(t.get("validateReference") or "", "ignore"))


#: the reference validator's validateReference values, as `Settings.check_references`
REFERENCE_POLICY = {"IGNORE": "ignore", "CHECK_EXISTS": "exists", "CHECK_EXISTS_AND_TYPE": "type",
                    "CHECK_TYPE_IF_EXISTS": "ignore", "CHECK_VALID": "valid"}


_DEFAULT = settings_for({})


def run_case(e: dict[str, Any]) -> list[CaseResult]:
    from conformance.fhir import Validator

    t = manifest()[e["name"]]
    settings = settings_for(t)
    fmt = "xml" if t["file"].endswith(".xml") else "json"
    supporting = list(t.get("supporting", [])) + list(t.get("profiles", []))
    profile_step = t.get("profile") if isinstance(t.get("profile"), dict) else None
    if profile_step:
        supporting += list(profile_step.get("supporting", []))
    resources = [_load_resource(s) for s in supporting]
    v = Validator(resources=resources, settings=settings) if resources or profile_step or settings != _DEFAULT \
        else _shared_validator()
    if settings.check_references != "ignore":
        from conformance.fhir.fetcher import folder_fetcher

        v.add_reference_fetcher(folder_fetcher(VALIDATOR_DIR))  # as the Java harness's fetcher: the suite's files
    results = []
    try:
        issues = _validate(v, t["file"], [])
    except Exception as exc:  # noqa: BLE001 - a crash is a disagreement, recorded with its reason
        results.append(CaseResult(e["name"], "base", e["module"], e["expected_base"]["errors"], [], -1, [], False,
                                  False, f"crash: {type(exc).__name__}: {exc}", fmt=fmt))
    else:
        results.append(_compare(e["name"], "base", e["module"], e["expected_base"], issues, fmt=fmt))
    if profile_step and e.get("expected_profile") and e["expected_profile"].get("available"):
        try:
            sd = _load_resource(profile_step["source"])
            v.add_resource(sd)
            issues = _validate(v, t["file"], [sd["url"]])
            results.append(_compare(e["name"], "profile", e["module"], e["expected_profile"], issues, fmt=fmt))
        except Exception as exc:  # noqa: BLE001
            results.append(CaseResult(e["name"], "profile", e["module"], e["expected_profile"]["errors"], [], -1,
                                      [], False, False, f"crash: {type(exc).__name__}: {exc}", fmt=fmt))
    return results


def run_all() -> list[CaseResult]:
    out: list[CaseResult] = []
    for e in selected_cases():
        out.extend(run_case(e))
    return out


def summary(results: list[CaseResult]) -> dict[str, Any]:
    n = len(results)
    agree = sum(r.agrees for r in results)
    verdict = sum(r.verdict_ok for r in results)
    return {"cases": n, "agreement": agree / n if n else 0.0, "agree": agree,
            "verdict_agreement": verdict / n if n else 0.0}


def breakdown(results: list[CaseResult]) -> dict[str, dict[str, Any]]:
    """The summary per input format, per step (base / profile) and per rule family (module)."""
    groups: dict[str, list[CaseResult]] = {}
    for r in results:
        for key in (f"format {r.fmt}", f"step {r.step}", f"family {r.module}"):
            groups.setdefault(key, []).append(r)
    return {k: summary(v) for k, v in sorted(groups.items())}


def locations(results: list[CaseResult]) -> dict[str, int]:
    """A stricter gauge than agreement: the distinct error locations of each case, ours against Java's (after
    `normalise`): how many of Java's we report, how many of ours Java reports, and the cases where both sets
    are the same."""
    expected = found = ours = same = 0
    for r in results:
        e, o = {normalise(x) for x in r.expected_locations}, {normalise(x) for x in r.locations}
        expected, found, ours, same = expected + len(e), found + len(e & o), ours + len(o), same + (e == o)
    return {"expected": expected, "found": found, "ours": ours, "same": same, "cases": len(results)}


def warning_locations(results: list[CaseResult]) -> dict[str, int]:
    """Not scored, a gauge of the rules the reference validator only warns about: of the distinct locations of
    Java's warnings, how many get a warning of ours at the same place."""
    expected = found = 0
    for r in results:
        e = set(r.expected_warnings)
        expected, found = expected + len(e), found + len(e & set(r.warnings))
    return {"expected": expected, "found": found}


def report(results: list[CaseResult]) -> str:
    s = summary(results)
    loc = locations(results)
    warn = warning_locations(results)
    lines = [f"agreement with the HL7 Java validator: {s['agree']}/{s['cases']} = {s['agreement']:.1%} "
             f"(verdict only: {s['verdict_agreement']:.1%})",
             f"error locations: {loc['found']}/{loc['expected']} of Java's found "
             f"({loc['found'] / max(loc['expected'], 1):.1%}), {loc['found']}/{loc['ours']} of ours also Java's "
             f"({loc['found'] / max(loc['ours'], 1):.1%}), same set in {loc['same']}/{loc['cases']} cases",
             f"warning locations (not scored): {warn['found']}/{warn['expected']} of Java's get a warning of ours "
             f"({warn['found'] / max(warn['expected'], 1):.1%})"]
    for k, g in breakdown(results).items():
        lines.append(f"  {k:<24} {g['agree']:>4}/{g['cases']:<4} {g['agreement']:6.1%}")
    return "\n".join(lines)


def main() -> int:
    results = run_all()
    verbose = "-v" in sys.argv
    for r in results:
        mark = "ok  " if r.agrees else "DIFF"
        print(f"{mark} {r.fmt:<4} {r.module!s:<13} {r.name}[{r.step}] expected {r.expected_errors} error(s) at {r.expected_locations}"
              f" / found {r.errors} at {r.locations} {r.note}")
        if verbose and not r.agrees:
            for m in r.messages[:6]:
                print(f"       {m[:200]}")
    for name, why in misfiled_cases().items():
        print(f"left out {name}: an outcome misfiled upstream ({why})")
    print("\n" + report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
