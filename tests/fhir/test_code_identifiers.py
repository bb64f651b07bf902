"""SNOMED CT concept ids and LOINC codes are checked by their form and check digit: every code the shipped value
sets list passes, every single-digit typo and swap of them is caught, expressions are left alone."""

from __future__ import annotations

import random

import pytest

from conformance.fhir.code_identifiers import LOINC, SNOMED, code_problem, loinc_problem, snomed_problem


def _shipped_codes(validator) -> dict[str, set[str]]:
    """The SNOMED CT and LOINC codes the shipped value sets name (their concept lists and `concept` filters)."""
    codes: dict[str, set[str]] = {SNOMED: set(), LOINC: set()}
    for url in validator.defs.urls("ValueSet"):
        vs = validator.defs.get(url)
        for part in ("include", "exclude"):
            for inc in (vs.get("compose") or {}).get(part) or ():
                if inc.get("system") in codes:
                    codes[inc["system"]].update(c["code"] for c in inc.get("concept") or ())
                    codes[inc["system"]].update(f["value"] for f in inc.get("filter") or ()
                                                if f.get("property") == "concept")
    return codes


@pytest.fixture(scope="module")
def shipped(validator) -> dict[str, set[str]]:
    return _shipped_codes(validator)


def test_every_snomed_and_loinc_code_of_the_shipped_value_sets_is_well_formed(shipped):
    """Thousands of real codes (IPS, R4 core, THO value sets): the check must never refuse a real code."""
    assert len(shipped[SNOMED]) > 1000 and len(shipped[LOINC]) > 1000
    assert {(s, c): code_problem(s, c) for s, cs in shipped.items() for c in cs if code_problem(s, c)} == {}


def _typos(code: str) -> set[str]:
    """Every copy of `code` with one digit changed, or two neighbouring different digits swapped."""
    out = set()
    for i, ch in enumerate(code):
        if ch.isdigit():
            out.update(code[:i] + d + code[i + 1:] for d in "0123456789" if d != ch)
        if i + 1 < len(code) and ch.isdigit() and code[i + 1].isdigit() and ch != code[i + 1]:
            out.add(code[:i] + code[i + 1] + ch + code[i + 2:])
    return out


def test_every_single_digit_typo_or_swap_of_a_snomed_concept_id_is_caught(shipped):
    """Verhoeff's check digit catches every one-digit error and every swap of neighbours."""
    sample = random.Random(14).sample(sorted(c for c in shipped[SNOMED] if c.isdigit()), 150)
    missed = {t for c in sample for t in _typos(c) if t[0] != "0" and snomed_problem(t) is None}
    assert missed == set()


def test_every_single_digit_typo_of_a_loinc_term_code_is_caught(shipped):
    """LOINC's mod-10 check digit catches every one-digit error, and swaps of neighbours but 0 and 9."""
    sample = random.Random(14).sample(sorted(c for c in shipped[LOINC] if c[0].isdigit()), 150)
    missed = {t for c in sample for t in _typos(c.split("-")[0]) if "09" not in t and "90" not in t
              if loinc_problem(t + "-" + c.split("-")[1]) is None}
    assert missed == set()


@pytest.mark.parametrize(("code", "why"), [
    ("276885007x", "digits only"), ("T-15460", "digits only"), ("12345", "6 to 18 digits"),
    ("0276885007", "leading zero"), ("85549033", "Verhoeff"), ("276885070", "Verhoeff"),
    ("123456017", "(01) makes it a description id"), ("123456029", "(02) makes it a relationship id"),
    ("123456208", "(20) makes it no valid id"),
])
def test_malformed_snomed_codes_say_why(code, why):
    problem = snomed_problem(code)
    assert problem is not None and why in problem


@pytest.mark.parametrize("code", ["276885007", "22298006", "138875005", "731000124108", "16217701000119102",
                                  "71341001:272741003=7771000", "64572001 |Disease|"])
def test_snomed_concept_ids_and_expressions_pass(code):
    assert snomed_problem(code) is None


@pytest.mark.parametrize(("code", "why"), [("8480-7", "should be 6"), ("11362-0", "should be 1"),
                                           ("8480", "digits, a hyphen"), ("LOINC-1", "digits, a hyphen"),
                                           ("LX6576-8", "LA/LP/LG/LL")])
def test_malformed_loinc_codes_say_why(code, why):
    problem = loinc_problem(code)
    assert problem is not None and why in problem


def test_an_observation_with_a_mistyped_loinc_code_has_one_unknown_code_error(validator):
    def obs(code: str) -> dict:
        return {"resourceType": "Observation", "status": "final",
                "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">BP</div>"},
                "code": {"coding": [{"system": LOINC, "code": code}]}, "valueString": "x"}

    assert [i for i in validator.validate(obs("8480-6")) if i.is_error] == []
    errors = [i for i in validator.validate(obs("8480-7")) if i.is_error]
    assert [(i.location, i.rule) for i in errors] == [("Observation.code.coding[0].code", "terminology.unknown-code")]
    assert "Unknown code '8480-7'" in errors[0].message and "check digit" in errors[0].message
