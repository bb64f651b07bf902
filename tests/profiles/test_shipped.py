"""Every shipped profile loads, obeys the JSON Schema, and says what the catalogue says."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from conformance.model import Level
from conformance.profiles import all_requirements, available_profiles, load_profile, load_schema
from conformance.resources import profiles_dir

SHIPPED = sorted(available_profiles())
CATEGORY_PROFILES = {
    "ehds-patient-summary": ("patient-summary", {"PS-001", "PS-002", "PS-003"}),
    "ehds-eprescription": ("eprescription", {"EP-001", "EP-002"}),
    "ehds-edispensation": ("edispensation", {"ED-001", "ED-002"}),
    "ehds-laboratory": ("laboratory", {"LAB-001", "LAB-002"}),
    "ehds-imaging": ("imaging", {"IMG-001", "IMG-002"}),
    "ehds-discharge": ("discharge", {"HDR-001", "HDR-002"}),
}
CORE_IDS = (
    {f"EHDS-GEN-{i:03d}" for i in range(1, 7)}
    | {f"EHDS-INT-{i:03d}" for i in range(1, 13)}
    | {f"EHDS-SEC-{i:03d}" for i in range(1, 10)}
    | {f"EHDS-LOG-{i:03d}" for i in range(1, 15)}
)
# Levels that differ from SHALL in the catalogue (/work/shared/REQUIREMENTS.md, copied here as the expectation).
NOT_SHALL = {
    "EHDS-GEN-004": "SHOULD", "EHDS-INT-006": "SHOULD", "EHDS-LOG-011": "SHOULD", "EHDS-LOG-013": "SHOULD",
    "EHDS-LOG-014": "SHOULD", "PS-003": "SHOULD", "ED-002": "SHOULD", "HDR-002": "SHOULD", "IMG-002": "SHOULD",
    "XB-001": "MAY",
}


def test_the_expected_profiles_are_shipped() -> None:
    assert set(SHIPPED) == {"ehds-core", *CATEGORY_PROFILES, "fr-sesali"}


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def _objects(schema: object) -> list[dict]:
    out = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            out.append(schema)
        for value in schema.values():
            out.extend(_objects(value))
    elif isinstance(schema, list):
        for value in schema:
            out.extend(_objects(value))
    return out


def test_schema_forbids_additional_properties_everywhere() -> None:
    objects = _objects(load_schema())
    assert len(objects) == 5  # profile, requirement, reference, scope, scope rule
    assert all(o.get("additionalProperties") is False for o in objects)


@pytest.mark.parametrize("pid", SHIPPED)
def test_shipped_profile_validates_against_schema_and_loads(pid: str) -> None:
    path = profiles_dir() / f"{pid}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(load_schema()).iter_errors(data))
    assert not errors, [e.message for e in errors]
    profile = load_profile(pid)
    assert profile.id == pid
    assert Path(profile.path) == path.resolve()
    assert profile.fhir_version == "4.0.1"
    assert len(profile.sha256) == 64
    ids = [r.id for r in profile.requirements]
    assert len(ids) == len(set(ids)), "a resolved profile lists each requirement once"


def test_core_has_exactly_the_catalogue_ids_and_levels() -> None:
    core = load_profile("ehds-core")
    assert {r.id for r in core.requirements} == CORE_IDS
    for r in core.requirements:
        assert r.level.value == NOT_SHALL.get(r.id, "SHALL"), r.id
        assert r.profile == "ehds-core"
        assert r.references and r.statement and r.title
        assert r.category.value == {"GEN": "general", "INT": "interoperability", "SEC": "security",
                                    "LOG": "logging"}[r.id.split("-")[1]]


def test_derived_levels_say_so_in_notes() -> None:
    core = load_profile("ehds-core")
    for rid in ("EHDS-LOG-007", "EHDS-LOG-010", "EHDS-INT-012"):
        assert "derived" in core.requirement(rid).notes.lower(), rid


@pytest.mark.parametrize("pid", sorted(CATEGORY_PROFILES))
def test_category_profile_extends_core_and_adds_its_own(pid: str) -> None:
    category, own_ids = CATEGORY_PROFILES[pid]
    profile = load_profile(pid)
    assert profile.extends == ("ehds-core",)
    own = [r for r in profile.requirements if r.profile == pid]
    assert {r.id for r in own} == own_ids
    assert all(category in r.applies_to for r in own)
    assert [r.id for r in profile.requirements[: len(CORE_IDS)]] == [r.id for r in load_profile("ehds-core").requirements]
    for r in own:
        assert r.level.value == NOT_SHALL.get(r.id, "SHALL"), r.id


def test_fr_sesali_diamond_keeps_each_requirement_once_parents_first() -> None:
    profile = load_profile("fr-sesali")
    assert profile.extends == ("ehds-core", "ehds-patient-summary")
    ids = [r.id for r in profile.requirements]
    core_ids = [r.id for r in load_profile("ehds-core").requirements]
    assert ids[: len(core_ids)] == core_ids
    assert ids[len(core_ids):] == ["PS-001", "PS-002", "PS-003", "FR-001", "FR-002", "FR-003", "FR-004", "XB-001",
                                   "XB-002", "XB-003", "XB-004", "XB-005", "XB-006"]
    assert profile.requirement("XB-001").level is Level.MAY
    assert Counter(r.profile for r in profile.requirements) == {"ehds-core": 41, "ehds-patient-summary": 3,
                                                                "fr-sesali": 10}
    assert "hl7.fhir.uv.ips#2.0.0" in profile.fhir_packages


def test_sha256_is_sha256sum_manifest_of_file_and_ancestors() -> None:
    def line(pid: str) -> str:
        raw = (profiles_dir() / f"{pid}.yaml").read_bytes()
        return f"{hashlib.sha256(raw).hexdigest()}  {pid}.yaml\n"

    core = load_profile("ehds-core")
    assert core.sha256 == hashlib.sha256(line("ehds-core").encode()).hexdigest()
    fr = load_profile("fr-sesali")
    manifest = line("fr-sesali") + line("ehds-core") + line("ehds-patient-summary")
    assert fr.sha256 == hashlib.sha256(manifest.encode()).hexdigest()
    assert fr.sha256 != load_profile("ehds-patient-summary").sha256


def test_all_requirements_is_the_union_of_shipped_profiles() -> None:
    known = all_requirements()
    union = {r.id for pid in SHIPPED for r in load_profile(pid).requirements}
    assert set(known) == union
    assert len(known) == 41 + 3 + 2 + 2 + 2 + 2 + 2 + 10
    assert known["FR-002"].profile == "fr-sesali"
    assert known["EHDS-LOG-001"].profile == "ehds-core"


def test_loading_is_cached_per_process() -> None:
    assert load_profile("fr-sesali") is load_profile("fr-sesali")
    assert load_profile(profiles_dir() / "ehds-core.yaml") is load_profile("ehds-core")


def test_scope_rules_are_inherited_and_cite_the_regulation() -> None:
    """ehds-core states who decides applicability; every profile extending it inherits the rules."""
    for pid in SHIPPED:
        scope = load_profile(pid).scope
        if pid == "ehds-core" or "ehds-core" in load_profile(pid).extends or pid.startswith("ehds-"):
            mandatory = {c for rule in scope["mandatory"] for c in rule.get("capabilities", [])}
            assert {"access-log", "submit", "export", "restriction", "emergency-access"} <= mandatory, pid
            assert all(rule["references"] for rule in scope["mandatory"] + scope["exclusions"]), pid
