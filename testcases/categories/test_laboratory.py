"""Laboratory results (Art 14(1)(e)): the SUT accepts and exports laboratory reports.

Profile checked: https://ehds-conformance.invalid/fhir/ehds-minimal/StructureDefinition/Bundle-laboratory-ehds-min
(a minimal stand-in written from HL7 Europe Laboratory Report 2.0.0; set EHDS_CONFORMANCE_PROFILE_LABORATORY to
check an official profile instead). LAB-001 and LAB-002 are also checked directly on the export, so they hold
whichever profile is selected.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from conformance.adapter import Capability
from conformance.documents import for_patient, resolve, resources
from conformance.settings import example_scope, examples
from conformance.strategies import documents
from ehds_support.categories import submit_and_export

CATEGORY = "laboratory"
pytestmark = [pytest.mark.capability(Capability.SUBMIT, Capability.EXPORT), pytest.mark.category(CATEGORY)]


@pytest.fixture
def hp(sut, accounts):
    return sut.login(accounts.hp)


def _target(bundle, reference):
    return resolve(bundle, (reference or {}).get("reference", "")) if isinstance(reference, dict) else None


@pytest.mark.requirement("LAB-001")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_lab_report_is_one_aligned_composition_and_report(hp, new_patient, evidence, document):
    """Procedure: submit a generated laboratory report and export it. Observed: the Composition and DiagnosticReport
    (count, subject, shared identifier, code, listed results). Decides LAB-001: one report, one Composition, aligned
    on patient, identifier, type and results."""
    patient = new_patient()
    with example_scope(evidence, "lab-aligned").example(patient=patient.identifier):
        exported = submit_and_export(hp, for_patient(document, patient), patient, CATEGORY)
        evidence.add("document", exported, label="exported laboratory report")
        compositions, reports = resources(exported, "Composition"), resources(exported, "DiagnosticReport")
        assert len(compositions) == 1, f"the laboratory report has {len(compositions)} Compositions, not one"
        assert len(reports) == 1, f"the laboratory report has {len(reports)} DiagnosticReports, not one"
        comp, report = compositions[0], reports[0]
        assert _target(exported, comp.get("subject")) is _target(exported, report.get("subject")) is not None, \
            "the Composition and the DiagnosticReport are not about the same patient"
        comp_id = comp.get("identifier") or {}
        report_ids = [(i.get("system"), i.get("value")) for i in report.get("identifier") or []]
        assert (comp_id.get("system"), comp_id.get("value")) in report_ids, \
            "the DiagnosticReport does not carry the Composition's identifier"
        comp_types = {(c.get("system"), c.get("code")) for c in (comp.get("type") or {}).get("coding") or []}
        report_codes = {(c.get("system"), c.get("code")) for c in (report.get("code") or {}).get("coding") or []}
        assert comp_types & report_codes, "the DiagnosticReport's code and the Composition's type differ"
        listed = {id(_target(exported, e)) for s in comp.get("section") or [] for e in s.get("entry") or []}
        results = {id(_target(exported, r)) for r in report.get("result") or []}
        assert listed == results, "the Composition lists other results than the DiagnosticReport"


@pytest.mark.requirement("LAB-002")
@settings(max_examples=examples(10))
@given(document=documents(CATEGORY))
def test_every_result_has_a_value_or_says_why_not(hp, new_patient, evidence, document):
    """Procedure: submit a generated laboratory report and export it. Observed: every result Observation of the
    DiagnosticReport. Decides LAB-002: each final result carries a value, members, components or a data-absent
    reason."""
    patient = new_patient()
    with example_scope(evidence, "lab-values").example(patient=patient.identifier):
        exported = submit_and_export(hp, for_patient(document, patient), patient, CATEGORY)
        results = [_target(exported, r) for report in resources(exported, "DiagnosticReport")
                   for r in report.get("result") or []]
        assert results, "the laboratory report has no results"
        for obs in results:
            assert obs is not None, "a DiagnosticReport.result does not resolve inside the document"
            code = ((obs.get("code") or {}).get("coding") or [{}])[0].get("code", "?")
            if obs.get("status") in ("registered", "cancelled"):
                continue
            has = [k for k in obs if k.startswith("value") or k in ("hasMember", "component", "dataAbsentReason")]
            assert has, f"result {code} (status {obs.get('status')}) has no value, members, components or reason"
