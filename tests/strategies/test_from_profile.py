"""from_profile(url): every instance validates with zero errors, and few had to be filtered.

CI runs EXAMPLES per profile; `--run-slow` runs SLOW_EXAMPLES (a few hundred) per profile.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from conformance.errors import UsageError
from conformance.fhir import default_validator
from conformance.strategies import from_profile, generation_stats

EXAMPLES = 40
SLOW_EXAMPLES = 300
#: At most this share of constructed instances may be filtered by the validation check.
MAX_FILTERED = 0.2

IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition/"
MIN = "https://ehds-conformance.invalid/fhir/ehds-minimal/StructureDefinition/"
PROFILES = [
    IPS + "Patient-uv-ips", IPS + "Composition-uv-ips", IPS + "AllergyIntolerance-uv-ips", IPS + "Condition-uv-ips",
    IPS + "MedicationStatement-uv-ips", IPS + "MedicationRequest-uv-ips", IPS + "Medication-uv-ips",
    IPS + "Procedure-uv-ips", IPS + "DeviceUseStatement-uv-ips", IPS + "Immunization-uv-ips",
    IPS + "Observation-results-laboratory-pathology-uv-ips", IPS + "Organization-uv-ips", IPS + "Practitioner-uv-ips",
    MIN + "Patient-ehds-min", MIN + "Medication-ehds-min", MIN + "MedicationRequest-ehds-min",
    MIN + "MedicationDispense-ehds-min", MIN + "Observation-laboratory-ehds-min",
    MIN + "DiagnosticReport-laboratory-ehds-min", MIN + "ImagingStudy-ehds-min", MIN + "DiagnosticReport-imaging-ehds-min",
    MIN + "Encounter-discharge-ehds-min", MIN + "Composition-discharge-ehds-min",
]


def _check(url: str, n: int) -> None:
    validator = default_validator()
    before = generation_stats(url)
    seen = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
    @given(from_profile(url))
    def prop(instance):
        errors = [i for i in validator.validate(instance, profiles=[url]) if i.is_error]
        assert not errors, [(i.rule, i.location, i.message) for i in errors]
        seen.append(instance)

    prop()
    after = generation_stats(url)
    built = after.get("built", 0) - before.get("built", 0)
    rejected = after.get("rejected", 0) - before.get("rejected", 0)
    assert len(seen) >= n * 0.9
    assert built and rejected / built <= MAX_FILTERED, f"{rejected}/{built} filtered: {after}"
    # variety: not the same instance over and over
    assert len({repr(sorted(i.items())) for i in seen}) > min(10, n // 4)


@pytest.mark.parametrize("url", PROFILES, ids=lambda u: u.rsplit("/", 1)[-1])
def test_instances_validate(url: str) -> None:
    _check(url, EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("url", PROFILES, ids=lambda u: u.rsplit("/", 1)[-1])
def test_instances_validate_many(url: str) -> None:
    _check(url, SLOW_EXAMPLES)


def test_references_come_from_the_document() -> None:
    url = IPS + "Condition-uv-ips"
    refs = {"Patient": ["urn:uuid:6b3f54ad-2d2f-4a57-9a0b-1b8e1d1f0c01"]}

    @settings(max_examples=20, derandomize=True, database=None, deadline=None)
    @given(from_profile(url, references=refs))
    def prop(instance):
        assert instance["subject"] == {"reference": refs["Patient"][0]}

    prop()


def test_fixed_and_pattern_values_are_kept() -> None:
    url = MIN + "Composition-discharge-ehds-min"

    @settings(max_examples=15, derandomize=True, database=None, deadline=None)
    @given(from_profile(url))
    def prop(instance):
        assert {"system": "http://loinc.org", "code": "34105-7"} in instance["type"]["coding"]
        codes = [c["code"] for s in instance["section"] for c in s["code"]["coding"]]
        assert "8648-8" in codes  # the required hospital-course slice

    prop()


def test_required_bindings_draw_from_the_value_set() -> None:
    url = IPS + "AllergyIntolerance-uv-ips"
    allowed = {"active", "inactive", "resolved"}

    @settings(max_examples=20, derandomize=True, database=None, deadline=None)
    @given(from_profile(url))
    def prop(instance):
        assert instance["clinicalStatus"]["coding"][0]["code"] in allowed

    prop()


@pytest.mark.parametrize("url, match", [
    ("http://example.org/nope", "no StructureDefinition"),
    (IPS + "Bundle-uv-ips", "documents"),
    (IPS + "IPSSectionsLM", "logical model"),
])
def test_usage_errors(url: str, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        from_profile(url)
