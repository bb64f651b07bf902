"""UCUM codes are checked against the UCUM grammar and the UCUM essence's atoms and prefixes, as the reference
validator's UCUM library checks them: real laboratory and vital-sign units pass, the usual mistakes do not."""

from __future__ import annotations

import pytest

from conformance.fhir.ucum_syntax import unit_problem

VALID = ["mm[Hg]", "kg", "cm", "Cel", "[degF]", "/min", "{beats}/min", "%", "kg/m2", "mg/dL", "mmol/L", "10*3/uL",
         "10*9/L", "10^3", "10*-3", "[IU]/L", "U/L", "mL/min/{1.73_m2}", "fL", "ug/L", "meq/L", "[pH]", "mo", "a",
         "1", "{score}", "s-1", "m+2", "mm[Hg]{hg}", "[in_i'Hg]", "B[10.nV]", "kcal/(24.h)", "10.L/(min.m2)",
         "{RBC}/[HPF]", "ng/mL{FEU}", "%{Hb}", "daL", "Kibit", "{cigarette packs}/wk", "cm[H2O]", "mg/kg/d",
         "g/(8.h){shift}"]


def test_every_ucum_code_of_the_shipped_value_sets_is_valid(validator):
    """The 1,357 UCUM codes the shipped value sets list (ucum-common, from UCUM's own table of common units, and
    the vital-signs units) are all valid: the parser is checked against the table it must accept."""
    codes = set()
    for url in validator.defs.urls("ValueSet"):
        vs = validator.defs.get(url)
        for inc in (vs.get("compose") or {}).get("include") or ():
            if inc.get("system") == "http://unitsofmeasure.org":
                codes.update(c["code"] for c in inc.get("concept") or ())
    assert len(codes) > 1000
    assert {c: unit_problem(c) for c in codes if unit_problem(c)} == {}
INVALID = {"fmm[Hg]": "unknown at character 1", "mmHg": "unknown", "bpm": "unknown", "kg/m^2": "at character 4",
           "degC": "unknown", "mL/min/1.73m2": "unknown", "": "empty", "kg ": "white space", "m/": "missing",
           "(m": "')' is missing", "[abc]": "unknown", "{a{b}": "annotation", "{kapsler, hårde}": "ASCII only",
           "mcg": "unknown", "cc": "unknown", "sec": "unknown", "Kg": "unknown", "kmin": "unknown"}


@pytest.mark.parametrize("code", VALID)
def test_valid_ucum_units(code):
    assert unit_problem(code) is None


@pytest.mark.parametrize(("code", "why"), sorted(INVALID.items()))
def test_invalid_ucum_units_say_where(code, why):
    problem = unit_problem(code)
    assert problem is not None and why in problem


def test_a_quantity_with_a_unit_outside_ucum_is_an_unknown_code(validator):
    def obs(unit: str) -> dict:
        return {"resourceType": "Observation", "status": "final", "code": {"text": "Hb"},
                "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Hb</div>"},
                "valueQuantity": {"value": 13, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
                "component": [{"code": {"text": "duration"}, "valueQuantity": {
                    "value": 1, "system": "http://unitsofmeasure.org", "code": "h"}}]}

    assert not [i for i in validator.validate(obs("g/dL")) if i.is_error]
    found = [(i.location, i.rule) for i in validator.validate(obs("gm/dL")) if i.is_error]
    assert found == [("Observation.valueQuantity.code", "terminology.unknown-code")]
    # a code with white space around it is a malformed code already: one error, not two
    found = [(i.location, i.rule) for i in validator.validate(obs("g/dL ")) if i.is_error]
    assert found == [("Observation.valueQuantity.code", "type.code")]
    coding = {**obs("g/dL"), "code": {"coding": [{"system": "http://unitsofmeasure.org", "code": "mmHg"}]}}
    found = [(i.location, i.rule) for i in validator.validate(coding) if i.is_error]
    assert found == [("Observation.code.coding[0].code", "terminology.unknown-code")]
