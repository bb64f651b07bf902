"""A datatype's own invariants apply to every value of that type, also where a profile constrains its children.

per-1 (Period), qty-3 (Quantity), cpt-2 (ContactPoint), att-1 (Attachment) and ref-1 (Reference) sit on the
root element of their datatype's StructureDefinition. Snapshots -- HL7's own (vital-signs), ours generated
from a differential (ehds-minimal) and SUSHI's -- list a constrained element's children inline but do not
copy those root invariants into the element's `constraint`, so the walker must take them from the datatype
itself, once per key (a profile that restates the invariant must not get it reported twice).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conformance.documents import CATEGORY_PROFILES, new_patient_identity, valid_document
from conformance.fhir import Validator
from conformance.fhir.snapshot import generate_snapshot

_TEST_BASE = "https://ehds-conformance.invalid/fhir/tests/StructureDefinition"
_PATIENT_PROFILE = f"{_TEST_BASE}/Patient-inline-datatypes"
_ENCOUNTER_PROFILE = f"{_TEST_BASE}/Encounter-restates-per-1"
_BODYWEIGHT = "http://hl7.org/fhir/StructureDefinition/bodyweight"
_PER_1 = "start.hasValue().not() or end.hasValue().not() or (start <= end)"


def _errors(issues, rule: str, location: str | None = None) -> list:
    return [i for i in issues if i.is_error and i.rule == rule and (location is None or i.location == location)]


def _entry(bundle: dict[str, Any], resource_type: str) -> tuple[int, dict[str, Any]]:
    return next((i, e["resource"]) for i, e in enumerate(bundle["entry"])
                if e["resource"]["resourceType"] == resource_type)


# -- the reported case: per-1 on Encounter.period in a discharge document -------------------------------------------
@pytest.fixture
def discharge() -> dict[str, Any]:
    return valid_document("discharge", new_patient_identity())


def test_the_discharge_document_is_valid(validator, discharge):
    assert [i for i in validator.validate(discharge, [CATEGORY_PROFILES["discharge"]]) if i.is_error] == []


def test_per_1_on_a_profiled_period_in_the_discharge_bundle(validator, discharge):
    i, encounter = _entry(discharge, "Encounter")
    encounter["period"] = {"start": "2024-05-10T08:00:00+01:00", "end": "2024-05-01T11:00:00+01:00"}
    issues = validator.validate(discharge, [CATEGORY_PROFILES["discharge"]])
    hits = _errors(issues, "per-1", f"Bundle.entry[{i}].resource.period")
    assert len(hits) == 1, [(x.location, x.rule, x.message) for x in issues if x.is_error]
    assert "per-1" in hits[0].message


def test_per_1_on_the_same_encounter_standalone_and_profiled(validator, discharge):
    _i, encounter = _entry(discharge, "Encounter")
    encounter = copy.deepcopy(encounter)
    encounter["period"] = {"start": "2024-05-10", "end": "2024-05-01"}
    profile = CATEGORY_PROFILES["discharge"].replace("Bundle-discharge", "Encounter-discharge")
    assert _errors(validator.validate(encounter), "per-1", "Encounter.period")
    assert len(_errors(validator.validate(encounter, [profile]), "per-1", "Encounter.period")) == 1


def test_a_good_period_stays_silent(validator, discharge):
    _i, encounter = _entry(discharge, "Encounter")
    encounter["period"] = {"start": "2024-05-01T08:00:00+01:00", "end": "2024-05-01T08:00:00+01:00"}
    assert _errors(validator.validate(discharge, [CATEGORY_PROFILES["discharge"]]), "per-1") == []


# -- qty-3 on a profiled Quantity: ehds-minimal (generated snapshot) and HL7 vital signs (published snapshot) ---------
def test_qty_3_on_a_profiled_quantity_in_the_edispensation_bundle(validator):
    """MedicationDispense.quantity is a SimpleQuantity constrained inline: both walks together report it once."""
    bundle = valid_document("edispensation", new_patient_identity())
    i, dispense = _entry(bundle, "MedicationDispense")
    del dispense["quantity"]["system"]  # a code without its system
    issues = validator.validate(bundle, [CATEGORY_PROFILES["edispensation"]])
    assert len(_errors(issues, "qty-3", f"Bundle.entry[{i}].resource.quantity")) == 1, \
        [(x.location, x.rule) for x in issues if x.is_error]


def _body_weight(system: str | None) -> dict[str, Any]:
    quantity = {"value": 72.5, "unit": "kg", "code": "kg"}
    if system:
        quantity["system"] = system
    return {"resourceType": "Observation", "meta": {"profile": [_BODYWEIGHT]}, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": "Patient/example"}, "effectiveDateTime": "2024-05-01",
            "valueQuantity": quantity}


def test_qty_3_on_the_valuequantity_slice_of_hl7_body_weight(validator):
    assert _errors(validator.validate(_body_weight("http://unitsofmeasure.org")), "qty-3") == []
    issues = validator.validate(_body_weight(None))
    assert len(_errors(issues, "qty-3", "Observation.valueQuantity")) == 1, \
        [(x.location, x.rule) for x in issues if x.is_error]


# -- cpt-2, att-1, ref-1 under a profile that constrains those datatypes inline --------------------------------------
def _patient_profile() -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition", "url": _PATIENT_PROFILE, "name": "PatientInlineDatatypes",
        "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Patient", "path": "Patient"},
            {"id": "Patient.telecom.use", "path": "Patient.telecom.use", "min": 1},
            {"id": "Patient.photo.title", "path": "Patient.photo.title", "min": 1},
            {"id": "Patient.managingOrganization.display", "path": "Patient.managingOrganization.display", "min": 1},
        ]},
    }


def _encounter_profile() -> dict[str, Any]:
    """Restates per-1 on Encounter.period (same key, its own wording): reported once, as the profile words it."""
    return {
        "resourceType": "StructureDefinition", "url": _ENCOUNTER_PROFILE, "name": "EncounterRestatesPer1",
        "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Encounter",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Encounter", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Encounter", "path": "Encounter"},
            {"id": "Encounter.period", "path": "Encounter.period", "min": 1, "constraint": [
                {"key": "per-1", "severity": "error", "human": "the stay ends after it starts", "expression": _PER_1}]},
            {"id": "Encounter.period.start", "path": "Encounter.period.start", "min": 1},
        ]},
    }


@pytest.fixture(scope="module", params=["differential", "snapshot"])
def profiled(request, validator) -> Validator:
    """A validator that also knows the test profiles: as differential only (our snapshot generator), or with
    a snapshot supplied (as SUSHI or an IG publisher ships it: children inline, root invariants not copied)."""
    profiles = [_patient_profile(), _encounter_profile()]
    if request.param == "snapshot":
        profiles = [generate_snapshot(p, validator.defs) for p in profiles]
        ids = [{e["id"] for e in p["snapshot"]["element"]} for p in profiles]
        assert "Patient.telecom.system" in ids[0] and "Encounter.period.end" in ids[1]  # children listed inline
    return Validator(resources=profiles, include_user_packages=False)


def _patient(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "meta": {"profile": [_PATIENT_PROFILE]}, **fields}


def test_the_test_patient_is_valid(profiled):
    patient = _patient(telecom=[{"system": "phone", "value": "+32 2 000 00 00", "use": "home"}],
                       photo=[{"contentType": "image/png", "data": "iVBORw0KGgo=", "title": "portrait"}],
                       managingOrganization={"reference": "Organization/1", "display": "Hospital"})
    assert [i for i in profiled.validate(patient) if i.is_error] == []


def test_cpt_2_on_a_profiled_contact_point(profiled):
    patient = _patient(telecom=[{"value": "+32 2 000 00 00", "use": "home"}])  # a value without its system
    issues = profiled.validate(patient)
    assert len(_errors(issues, "cpt-2", "Patient.telecom[0]")) == 1, [(x.location, x.rule) for x in issues]


def test_att_1_on_a_profiled_attachment(profiled):
    patient = _patient(photo=[{"data": "iVBORw0KGgo=", "title": "portrait"}])  # data without its contentType
    issues = profiled.validate(patient)
    assert len(_errors(issues, "att-1", "Patient.photo[0]")) == 1, [(x.location, x.rule) for x in issues]


def test_ref_1_on_a_profiled_reference(profiled):
    patient = _patient(managingOrganization={"reference": "#nowhere", "display": "Hospital"})
    issues = profiled.validate(patient)
    assert len(_errors(issues, "ref-1", "Patient.managingOrganization")) == 1, [(x.location, x.rule) for x in issues]


def test_a_restated_datatype_invariant_is_reported_once_in_the_profiles_words(profiled):
    encounter = {"resourceType": "Encounter", "meta": {"profile": [_ENCOUNTER_PROFILE]}, "status": "finished",
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
                 "period": {"start": "2024-05-10", "end": "2024-05-01"}}
    hits = _errors(profiled.validate(encounter), "per-1", "Encounter.period")
    assert len(hits) == 1 and "the stay ends after it starts" in hits[0].message, [h.message for h in hits]
