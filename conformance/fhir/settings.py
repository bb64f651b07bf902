"""Validator settings: the switches of the HL7 reference validator that change verdicts, with its defaults.

One frozen object per `Validator` (the CLI builds it from its options), so a run never depends on
module globals and two validators with different settings can live in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

#: URLs the reference validator accepts unknown extensions from when example URLs are allowed (the
#: default): an unknown extension there is a warning instead of an error.
EXAMPLE_DOMAINS = ("http://example.org/", "https://example.org/", "http://acme.com/", "https://acme.com/")


@dataclass(frozen=True, slots=True)
class Settings:
    """`extension_domains`: URL prefixes whose unknown extensions are allowed (warning, not error).
    `any_extension`: allow every unknown extension (the reference validator's `-allow-any-extensions`).
    `allow_examples`: accept the example domains above (on by default, as the reference validator's
    test harness runs; `--no-example-urls` turns it off and makes example URLs errors).
    `check_contained`: validate contained resources against their profiles too (on by default).
    `best_practice`: severity of best-practice invariants (`ignore`, `hint`, `warning`, `error`).
    `display_severity`: severity of a display that does not match the local code system.
    `allow_comments`: accept `fhir_comments` properties in JSON (R2-era comments) instead of rejecting them.
    `max_issues`: stop listing after this many issues (0: no limit); errors are kept first.
    `no_html_in_markdown`: a markdown value containing HTML tags is an error (the reference validator's
    `noHtmlInMarkdown`; markdown may carry HTML by default).
    `assume_valid_rest_references`: a RESTful reference that does not resolve here (`Patient/123`) is
    taken to point to the type it names, which must then be an allowed target (off by default, as the
    reference validator: an unresolved reference's type is not judged from its URL).
    `check_references`: what a literal reference that does not resolve inside the instance must do (the
    reference validator's `validateReference`): `ignore` (default: nothing is asked of it), `exists` (it must
    resolve, inside the instance or to a resource given with `Validator.add_reference_target` or found by a
    fetcher such as `fetcher.folder_fetcher`),
    `type` (and the resource found must be of an allowed target type), `valid` (and conform to one of the
    element's target profiles; a cycle of references is taken as conforming, as the reference validator does).
    `vital_signs_profiles`: an Observation coded as a vital sign (LOINC 29463-7 body weight...) is also checked
    against that sign's core profile, as R4 asks ("SHALL conform") and the reference validator's ObservationValidator
    does (`vital_signs.py`). Off by default: it turns a spec-level rule most national documents were never checked
    against into errors (a body-weight Observation without its vital-signs category), and declared profiles
    already carry what a document's own rules ask; `--vital-signs-profiles` turns it on.
    `bundle_rules`: (rule, profile) pairs, the reference validator's `-bundle`: the entries of a Bundle
    a rule selects are also validated against the profile. A rule is `Type` (every entry of that type),
    `Type:n` (the n-th of that type, from 0) or `n` (the n-th entry, from 0)."""

    extension_domains: tuple[str, ...] = ()
    any_extension: bool = False
    allow_examples: bool = True
    check_contained: bool = True
    best_practice: str = "warning"
    display_severity: str = "error"
    allow_comments: bool = False
    max_issues: int = 0
    no_html_in_markdown: bool = False
    assume_valid_rest_references: bool = False
    bundle_rules: tuple[tuple[str, str], ...] = ()
    check_references: str = "ignore"
    vital_signs_profiles: bool = False

    def extension_allowed(self, url: str) -> bool:
        """Is an unknown extension with this URL tolerated (as the reference validator's allowUnknownExtension)?"""
        if self.any_extension:
            return True
        if url.startswith(("http://nema.org/", "http://hl7.org/fhir/tools/StructureDefinition/")):
            return True
        if self.allow_examples and is_example_url(url):
            return True
        return url.startswith(self.extension_domains) if self.extension_domains else False


#: the values of `Settings.check_references`, weakest first
REFERENCE_POLICIES = ("ignore", "exists", "type", "valid")


def is_example_url(url: str) -> bool:
    """An example-domain URL (example.org, acme.com -- not example.com), as the reference validator recognises them."""
    return url.startswith(EXAMPLE_DOMAINS) or "example.org" in url or "acme.com" in url
