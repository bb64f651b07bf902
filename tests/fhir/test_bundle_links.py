"""Bundle.link is checked by Bundle type, as the reference validator checks it: paging links only in search sets
and histories, each paging link and `self` once, a document's stylesheet an entry of the Bundle (which it then
reaches) or an external URL with warnings."""

from __future__ import annotations

import pytest

_CSS = {"fullUrl": "urn:uuid:5f0c3a52-7d8e-4a34-9d47-0d5d3c5a1b11",
        "resource": {"resourceType": "Binary", "id": "css", "contentType": "text/css", "data": "Ym9keXt9"}}


def _link_issues(validator, bundle: dict, links: list[dict]) -> list[tuple[str, str, str]]:
    bundle["link"] = links
    return [(i.severity, i.location, i.rule) for i in validator.validate(bundle)
            if i.rule.startswith(("bundle.link", "bundle.stylesheet", "bundle.entry-orphan"))]


def test_a_document_has_no_paging_links_and_one_self(validator, minimal_bundle):
    found = _link_issues(validator, minimal_bundle, [{"relation": "self", "url": "http://x.org/a"},
                                                     {"relation": "next", "url": "http://x.org/b"},
                                                     {"relation": "self", "url": "http://x.org/c"}])
    assert found == [("error", "Bundle.link[1].relation", "bundle.link-paging"),
                     ("error", "Bundle.link[2].relation", "bundle.link-unique")]


def test_a_search_set_has_each_paging_link_once_and_other_links_freely():
    from conformance.fhir import default_validator

    bundle = {"resourceType": "Bundle", "type": "searchset",
              "link": [{"relation": "self", "url": "http://x.org/Patient?name=a"},
                       {"relation": "next", "url": "http://x.org/p2"}, {"relation": "next", "url": "http://x.org/p3"},
                       {"relation": "alternate", "url": "http://x.org/p4"},
                       {"relation": "alternate", "url": "http://x.org/p5"}]}
    found = [(i.location, i.rule) for i in default_validator().validate(bundle) if i.rule.startswith("bundle.link")]
    assert found == [("Bundle.link[2]", "bundle.link-unique")]


def test_a_stylesheet_entry_is_found_and_reached(validator, minimal_bundle):
    minimal_bundle["entry"].append(_CSS)
    assert _link_issues(validator, minimal_bundle, [{"relation": "stylesheet", "url": "Binary/css"},
                                                    {"relation": "stylesheet", "url": "https://hl7.org/fhir/fhir.css"}]) == []


def test_a_stylesheet_that_is_no_entry_is_an_error(validator, minimal_bundle):
    minimal_bundle["entry"].append(_CSS)
    found = _link_issues(validator, minimal_bundle, [{"relation": "stylesheet", "url": "Binary/other"}])
    assert sorted(found) == [("error", f"Bundle.entry[{len(minimal_bundle['entry']) - 1}]", "bundle.entry-orphan"),
                             ("error", "Bundle.link[0].url", "bundle.stylesheet")]


@pytest.mark.parametrize(("url", "rules"), [("https://example.org/style.css", ["bundle.stylesheet-external"]),
                                            ("http://example.org/style.css",
                                             ["bundle.stylesheet-external", "bundle.stylesheet-insecure"])])
def test_an_external_stylesheet_is_a_warning(validator, minimal_bundle, url, rules):
    found = _link_issues(validator, minimal_bundle, [{"relation": "stylesheet", "url": url}])
    assert found == [("warning", "Bundle.link[0].url", r) for r in rules]
