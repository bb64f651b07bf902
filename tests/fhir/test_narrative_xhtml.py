"""Narrative XHTML beyond txt-1, as the reference validator checks it: the elements its list allows, no block
inside a paragraph, and hyperlinks that are not empty and go somewhere a reader can follow."""

from __future__ import annotations

import pytest

_NS = 'xmlns="http://www.w3.org/1999/xhtml"'


def _div_errors(validator, inner: str) -> list[str]:
    patient = {"resourceType": "Patient", "text": {"status": "generated", "div": f"<div {_NS}>{inner}</div>"}}
    return [i.rule for i in validator.validate(patient) if i.is_error and i.location == "Patient.text.div"]


@pytest.mark.parametrize(("inner", "expected"), [
    ("<p>a<br/><span>b</span></p>", []),
    ("<address>Rue 1</address><bdo dir=\"rtl\">x</bdo><kbd>k</kbd>", []),  # in the reference validator's list
    ("<p>x<table><tr><td>a</td></tr></table></p>", ["narrative.block-in-paragraph"]),
    ("<p>x<ul><li>a</li></ul></p>", ["narrative.block-in-paragraph"]),
    ("<div><table><tr><td><p>a</p></td></tr></table></div>", []),
    ("<a href=\"https://example.org\">w</a><a href=\"mailto:a@b.org\">m</a><a href=\"tel:+331\">t</a>", []),
    ("<a href=\"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0\">p</a>", ["narrative.link-scheme"]),
    ("<a href=\"javascript:alert(1)\">x</a>", ["narrative.link-scheme"]),
    ("<a href=\"\">x</a>", ["narrative.link-empty"]),
    ("<table><tr idref=\"b083\"><td>a</td></tr></table>", []),  # attributes beyond the list: passed upstream
])
def test_narrative_structure_and_hyperlinks(validator, inner, expected):
    assert _div_errors(validator, inner) == expected
