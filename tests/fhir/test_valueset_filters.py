"""A value set's filters are checked against the code system they filter: known properties, declared operations,
values of the property's type, and codes the code system has (where that can be told offline)."""

from __future__ import annotations

import pytest

from conformance.fhir import Validator

_TEXT = {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}
_CS = {"resourceType": "CodeSystem", "url": "http://example.org/fhir/CodeSystem/filtered", "status": "active",
       "content": "complete", "hierarchyMeaning": "is-a", "text": _TEXT,
       "filter": [{"code": "myfilter", "operator": ["="], "value": "a code"}],
       "property": [{"code": "coded", "type": "Coding"}, {"code": "count", "type": "integer"},
                    {"code": "flag", "type": "boolean"}, {"code": "kind", "type": "code"},
                    {"code": "note", "type": "string"}, {"code": "since", "type": "dateTime"}],
       "concept": [{"code": "a", "concept": [{"code": "b"}]}]}
SYSTEM = _CS["url"]
SNOMED = "http://snomed.info/sct"


@pytest.fixture(scope="module")
def v() -> Validator:
    return Validator(resources=[_CS], include_user_packages=False)


def _found(v: Validator, system: str, prop: str, op: str, value: str) -> list[tuple[str, str]]:
    vs = {"resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/f", "status": "active", "text": _TEXT,
          "compose": {"include": [{"system": system, "filter": [{"property": prop, "op": op, "value": value}]}]}}
    return [(i.severity, i.rule) for i in v.validate(vs)
            if i.rule.startswith("valueset.") and i.location == "ValueSet.compose.include[0].filter[0]"]


ERROR_VALUE, WARNING_VALUE = ("error", "valueset.filter-value"), ("warning", "valueset.filter-value")


@pytest.mark.parametrize(("prop", "op", "value", "expected"), [
    ("concept", "is-a", "a", []),
    ("concept", "descendent-of", "zz", [ERROR_VALUE]),  # no such code in a complete code system
    ("concept", "in", "a,b", []),
    ("concept", "in", "a,zz", [ERROR_VALUE]),
    ("concept", "regex", "a.*", [("error", "valueset.filter-op")]),  # regex is for `code`, not `concept`
    ("code", "regex", "a.*", []),
    ("code", "=", " a", [ERROR_VALUE]),
    ("parent", "=", "a", []),  # the code system has a hierarchy
    ("flag", "=", "yes", [ERROR_VALUE]),
    ("flag", "exists", "true", []),
    ("count", "=", "ge12", []),
    ("count", "=", "1.5", [ERROR_VALUE]),
    ("since", "=", "2024-02-30", [ERROR_VALUE]),
    ("since", "=", "gt2024-02-01", []),
    ("coded", "=", f"{SYSTEM}#b", []),
    ("coded", "=", f"{SYSTEM}#zz", [ERROR_VALUE]),
    ("coded", "=", "b", [ERROR_VALUE]),  # not system#code
    ("coded", "=", "http://loinc.org#8480-6", []),
    ("coded", "=", "http://loinc.org#8480-7", [ERROR_VALUE]),  # a LOINC check digit
    ("kind", "=", "zz", [WARNING_VALUE]),  # type code: many use it for values defined nowhere
    ("note", "=", "anything at all", []),
    ("myfilter", "=", "x", []),
    ("myfilter", "is-a", "x", [("error", "valueset.filter-op")]),  # the code system declares "=" only
    ("colour", "=", "red", [("warning", "valueset.filter-property")]),
])
def test_filters_on_a_local_code_system(v, prop, op, value, expected):
    assert _found(v, SYSTEM, prop, op, value) == expected


@pytest.mark.parametrize(("system", "prop", "op", "value", "expected"), [
    (SNOMED, "concept", "is-a", "22298006", []),
    (SNOMED, "concept", "is-a", "something", [ERROR_VALUE]),  # no SNOMED CT concept id
    (SNOMED, "1142143009", "=", "734137005", []),  # SNOMED CT's own properties are not judged
    (SNOMED, "concept", "generalizes", "22298006", []),  # nor its operations
    ("http://example.org/unknown", "inactive", "=", "1", [ERROR_VALUE]),  # every code system has `inactive`
    ("http://example.org/unknown", "colour", "=", "red", []),  # a system we do not have: its properties unknown
    ("http://example.org/unknown", "concept", "is-a", "whatever", []),  # nor its codes
])
def test_filters_on_code_systems_we_do_not_have(v, system, prop, op, value, expected):
    assert _found(v, system, prop, op, value) == expected


def test_a_code_system_without_hierarchy_has_no_parent_property():
    flat = {**_CS, "hierarchyMeaning": None}
    del flat["hierarchyMeaning"]
    assert _found(Validator(resources=[flat], include_user_packages=False), SYSTEM, "parent", "=", "a") == [
        ("warning", "valueset.filter-property")]
