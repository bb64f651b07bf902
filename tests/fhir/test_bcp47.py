"""Language tags (urn:ietf:bcp:47) are checked with the BCP 47 grammar and the IANA subtag registry, and the R4
maxValueSet `all-languages` of Resource.language and the other language elements is checked with them."""

from __future__ import annotations

import pytest

from conformance.fhir.bcp47 import SYSTEM, tag_problem
from conformance.fhir.trim import trim_resource

VALID = ["en", "en-US", "EN-gb", "fr-BE", "de-CH-1996", "zh-Hant-TW", "sr-Latn-RS", "es-419", "i-klingon", "x-private",
         "en-GB-oed", "zh-yue-HK", "de-DE-u-co-phonebk", "en-a-bbb-x-a-ccc", "qaa", "sgn-BE-FR", "nb", "ga-IE"]
INVALID = {"en_US": "'_' is not one", "english": "no language subtag", "xx": "not a language",
           "en-UK": "the United Kingdom is GB", "de-Latx": "not a script", "en--US": "no empty subtag",
           "en-US-": "no empty subtag", "": "empty", "de-CH-1996-1996": "repeated", "en-a": "no subtag of 2 to 8",
           "x-": "no empty subtag", "en-US-Latn": "out of place", "fr BE": "' ' is not one",
           "en-a-bbb-a-ccc": "extension 'a' is repeated", "x-toolongsubtag": "1 to 8 characters"}


@pytest.mark.parametrize("tag", VALID)
def test_valid_language_tags(tag):
    assert tag_problem(tag) is None


@pytest.mark.parametrize(("tag", "why"), sorted(INVALID.items()))
def test_invalid_language_tags_say_why(tag, why):
    problem = tag_problem(tag)
    assert problem is not None and why in problem


def test_every_language_the_shipped_value_sets_list_is_a_valid_tag(validator):
    """The common-languages value set and every other shipped value set over urn:ietf:bcp:47: all valid."""
    codes = set()
    for url in validator.defs.urls("ValueSet"):
        for inc in (validator.defs.get(url).get("compose") or {}).get("include") or ():
            if inc.get("system") == SYSTEM:
                codes.update(c["code"] for c in inc.get("concept") or ())
    assert len(codes) > 50
    assert {c: tag_problem(c) for c in codes if tag_problem(c)} == {}


_TEXT = {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}


def _errors(validator, patient: dict) -> list[tuple[str, str]]:
    return [(i.location, i.rule) for i in validator.validate({"resourceType": "Patient", "text": _TEXT, **patient})
            if i.is_error]


def test_resource_language_is_checked_against_its_max_value_set(validator):
    """R4 binds Resource.language to common languages (preferred), with all-languages as the maxValueSet: a tag
    that is no language is an error, one outside the common list is not."""
    assert _errors(validator, {"language": "en-IE"}) == []
    assert _errors(validator, {"language": "kw-GB"}) == []  # Cornish: a language, though not a common one
    assert [loc for loc, _ in _errors(validator, {"language": "en_US"})] == ["Patient.language"]
    assert _errors(validator, {"language": ""}) == [("Patient.language", "type.code")]  # once, as an empty value


def test_a_language_coding_with_a_bad_tag_is_one_unknown_code(validator):
    def comm(system: str, code: str) -> dict:
        return {"communication": [{"language": {"coding": [{"system": system, "code": code}]}}]}

    assert _errors(validator, comm(SYSTEM, "fr-BE")) == []
    assert _errors(validator, comm(SYSTEM, "fr_BE")) == [
        ("Patient.communication[0].language.coding[0].code", "terminology.unknown-code")]
    # ISO 639-1 by OID is not a BCP 47 tag: nothing of all-languages is given
    assert [loc for loc, _ in _errors(validator, comm("urn:oid:1.0.639.1", "fr"))] == [
        "Patient.communication[0].language"]


def test_trimming_keeps_the_max_value_set():
    sd = {"resourceType": "StructureDefinition", "snapshot": {"element": [{"path": "Resource.language", "binding": {
        "strength": "preferred", "valueSet": "http://hl7.org/fhir/ValueSet/languages", "description": "prose",
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet",
                       "valueCanonical": "http://hl7.org/fhir/ValueSet/all-languages"},
                      {"url": "http://hl7.org/fhir/StructureDefinition/elementdefinition-bindingName",
                       "valueString": "Language"}]}}]}}
    binding = trim_resource(sd)["snapshot"]["element"][0]["binding"]
    assert binding == {"strength": "preferred", "valueSet": "http://hl7.org/fhir/ValueSet/languages", "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet",
         "valueCanonical": "http://hl7.org/fhir/ValueSet/all-languages"}]}
