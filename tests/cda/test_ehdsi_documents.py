"""The eHDSI documents the checks send, the waivers, and the shape of the findings."""

from __future__ import annotations

import json
import shutil

import pytest

from conformance.cda import compiled_schematron, validate_document
from conformance.cda.catalog import schematron_spec
from conformance.cda.documents import (
    BIRTH_TIME_RULE,
    BROKEN_KINDS,
    broken_patient_summary,
    ehdsi_patient_summary,
)
from conformance.documents import new_patient_identity
from conformance.resources import cda_dir

WAIVERS = json.loads((cda_dir() / "schematron" / "ehdsi" / "waivers.json").read_text("utf-8"))["waivers"]


def _patient(**kw):
    return new_patient_identity(7, namespace="cda-test", **kw)


def _errors(issues):
    return [i for i in issues if i.is_error]


@pytest.mark.parametrize("gender", ["male", "female", "other", "unknown"])
def test_generated_patient_summary_passes_schema_and_schematron(gender):
    issues = validate_document(ehdsi_patient_summary(_patient(gender=gender)))
    assert _errors(issues) == []
    warnings = [i for i in issues if i.severity == "warning"]
    assert warnings and all(i.message.startswith("line ") and "[waived upstream defect:" in i.message
                            for i in warnings)
    assert {i.rule for i in issues if i.severity == "information"} == {"cda-schema-choice"}


def test_generated_document_carries_the_patient():
    patient = _patient(family="Ó Briain", given="Zoë")
    data = ehdsi_patient_summary(patient)
    assert "Ó Briain".encode() in data and "Zoë".encode() in data
    system, value = patient.identifier.split("|")
    assert f'root="{system.removeprefix("urn:oid:")}"'.encode() in data and value.encode() in data
    assert b"TEMPLATE-0001" not in data


def test_without_waivers_exactly_the_waived_asserts_become_errors():
    data = ehdsi_patient_summary(_patient())
    waived = {w["rule"] for w in WAIVERS if w["schematron"] == "ehdsi-ps"}
    strict = {i.rule for i in _errors(validate_document(data, waivers=False))}
    assert strict and strict <= waived
    relaxed = validate_document(data)
    assert {i.rule for i in relaxed if i.severity == "warning"} == strict


def test_every_waiver_names_an_existing_assert_with_its_exact_test():
    for w in WAIVERS:
        compiled = compiled_schematron(w["schematron"])
        tests = {a.rule_id: a.test for a in compiled.asserts}
        assert tests.get(w["rule"]) == w["test"], f"waiver {w['rule']} no longer matches {w['schematron']}"
        assert w["reason"] and w["evidence"]


def test_a_waiver_does_not_apply_once_the_assert_changes(tmp_path):
    folder = tmp_path / "ehdsi"
    folder.mkdir()
    source = schematron_spec("ehdsi-ps").file.read_text("utf-8")
    w = WAIVERS[0]
    (folder / "waivers.json").write_text(json.dumps({"waivers": [{**w, "schematron": "PatientSummary"}]}))
    data = ehdsi_patient_summary(_patient())

    (folder / "PatientSummary.sch").write_text(source)
    same = validate_document(data, schema="none", schematron=str(folder / "PatientSummary.sch"))
    assert [i.severity for i in same if i.rule == w["rule"]] == ["warning"]

    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    (changed / "PatientSummary.sch").write_text(source.replace("RELMAD572", "RELMAD573", 1))
    issues = validate_document(data, schema="none", schematron=str(changed / "PatientSummary.sch"))
    assert [i.severity for i in issues if i.rule == w["rule"]] == ["error"]


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_each_broken_variant_is_caught_by_the_layer_it_names(kind):
    broken = broken_patient_summary(_patient(), kind)
    errors = _errors(validate_document(broken.data))
    assert broken.expected_rule in {i.rule for i in errors}, [i.rule for i in errors]
    if kind == "schematron-invalid":
        assert not any(i.rule.startswith("xsd:") for i in errors), "must stay schema-valid"
        assert broken.expected_rule == BIRTH_TIME_RULE


def test_unknown_broken_kind():
    from conformance.errors import UsageError

    with pytest.raises(UsageError, match="known:"):
        broken_patient_summary(_patient(), "nonsense")


def test_findings_have_the_shared_issue_shape():
    issues = validate_document(broken_patient_summary(_patient(), "schema-invalid").data)
    xsd = [i for i in issues if i.rule.startswith("xsd:")]
    assert len(xsd) == 1
    assert xsd[0].location == "/ClinicalDocument/unexpectedElement[1]"
    assert xsd[0].source == "profiles/cda/schemas/epsos-legacy/CDA_extended.xsd"
    assert xsd[0].to_operation_outcome_issue()["expression"] == ["/ClinicalDocument/unexpectedElement[1]"]
    sch = [i for i in _errors(validate_document(broken_patient_summary(_patient(), "schematron-invalid").data))]
    assert sch[0].source == "profiles/cda/schematron/ehdsi/PatientSummary.sch"
    assert sch[0].location.startswith("/ClinicalDocument")
    assert sch[0].code == "invariant"


def test_explain_names_the_schema_component():
    data = broken_patient_summary(_patient(), "schema-invalid").data
    issues = [i for i in validate_document(data, schematron="none", explain=True) if i.is_error]
    assert len(issues) == 1
    assert issues[0].rule == "xsd:POCD_MT000040.ClinicalDocument"
    assert issues[0].location == "/ClinicalDocument/unexpectedElement[1]"
    assert "component POCD_MT000040.ClinicalDocument" in issues[0].message


def test_schematron_selection_by_name_alias_list_and_none():
    data = ehdsi_patient_summary(_patient())
    assert not any(i.source.endswith(".sch") for i in validate_document(data, schematron="none"))
    by_alias = validate_document(data, schema="none", schematron="patient-summary")
    assert {i.source for i in by_alias} == {"profiles/cda/schematron/ehdsi/PatientSummary.sch"}
    both = validate_document(data, schema="none", schematron="ehdsi-ps,ehdsi-ep")
    assert {i.source for i in both} == {"profiles/cda/schematron/ehdsi/PatientSummary.sch",
                                         "profiles/cda/schematron/ehdsi/ePrescription.sch"}


def test_document_without_an_ehdsi_template_says_schematron_was_not_applied():
    data = ehdsi_patient_summary(_patient()).replace(b"1.3.6.1.4.1.12559.11.10.1.3.1.1.3", b"2.999.9", 1)
    notes = [i for i in validate_document(data) if i.rule == "cda-schematron-choice"]
    assert len(notes) == 1 and "only the XML Schema was checked" in notes[0].message
