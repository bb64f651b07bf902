"""The property bodies the six priority-category check modules share (testcases/categories/).

Why here: the three generic properties (the export conforms, a round trip keeps the meaning,
invalid input is rejected with nothing stored) are the same for every category; each check
module only says which category, which requirement ids and which category-specific rules.
Every function takes the plugin's fixtures and one drawn example, records bounded evidence
(the last example only, see :func:`conformance.settings.example_scope`) and fails with a
message that names what the SUT did wrong.
"""

from __future__ import annotations

from typing import Any

from conformance.adapter import NotFound, Rejected
from conformance.documents import PatientIdentity, for_patient, profile_for
from conformance.settings import example_scope
from conformance.strategies.mutants import Mutation
from conformance.strategies.semantics import lost_meaning
from ehds_support.flow import submit_declared

def submit_and_export(hp: Any, bundle: dict[str, Any], patient: PatientIdentity, category: str) -> dict[str, Any]:
    """Import a valid document and export the patient's document of that category."""
    receipt = submit_declared(hp, bundle, category)  # a rejection is EHDS-GEN-001's failure, not this check's
    try:
        return hp.fetch(receipt.patient_id, category)
    except NotFound:
        raise AssertionError(f"the {category} document just accepted for {patient.identifier} cannot be "
                             f"exported (NotFound)") from None


def export_only(hp: Any, patient: PatientIdentity, document: dict[str, Any], evidence: Any) -> dict[str, Any]:
    """Submit a valid document for `patient` and return the export of its category, kept as evidence.

    For category-specific content checks: conformance of the export to the profile is
    EHDS-INT-005's own check (test_any_category), so a profile error is blamed there only."""
    from conformance.categories import category_of_type

    bundle = for_patient(document, patient)
    comp = next((e.get("resource") for e in bundle.get("entry") or []
                 if (e.get("resource") or {}).get("resourceType") == "Composition"), {}) or {}
    codes = [c.get("code", "") for c in (comp.get("type") or {}).get("coding") or []]
    category = next((category_of_type(c) for c in codes if category_of_type(c)), "")
    exported = submit_and_export(hp, bundle, patient, category)
    evidence.add("document", exported, label=f"{category} export")
    return exported


def _errors(issues: list[Any]) -> list[Any]:
    return [i for i in issues if i.is_error]


def export_conforms(*, hp: Any, patient: PatientIdentity, document: dict[str, Any], category: str,
                    validator: Any, evidence: Any, prop: str) -> dict[str, Any]:
    """EHDS-INT-005: what the SUT exports validates against the category profile with zero errors.
    Returns the export for further category-specific checks."""
    bundle = for_patient(document, patient)
    profile = profile_for(category)
    with example_scope(evidence, prop).example(patient=patient.identifier, category=category):
        exported = submit_and_export(hp, bundle, patient, category)
        issues = validator.validate(exported, profiles=[profile])
        evidence.add("document", exported, label=f"{category} export")
        evidence.validation(issues, label=f"export against {profile}")
        errors = _errors(issues)
        assert not errors, (
            f"the exported {category} document does not conform to {profile}: {len(errors)} error(s), first: "
            + "; ".join(f"{i.location}: {i.message} [{i.rule}]" for i in errors[:3]))
    return exported


def round_trip_keeps_meaning(*, hp: Any, patient: PatientIdentity, document: dict[str, Any], category: str,
                             evidence: Any, prop: str) -> None:
    """EHDS-INT-008: import then export keeps codes, dates, quantities, identifiers, references and
    narrative (compared semantically, see :mod:`conformance.strategies.semantics`)."""
    bundle = for_patient(document, patient)
    with example_scope(evidence, prop).example(patient=patient.identifier, category=category):
        evidence.add("document", bundle, label=f"{category} sent")
        exported = submit_and_export(hp, bundle, patient, category)
        evidence.add("document", exported, label=f"{category} exported")
        losses = lost_meaning(bundle, exported)
        evidence.add("round-trip", {"resources_sent": len(bundle.get("entry") or []),
                                    "losses": [loss.describe() for loss in losses]})
        assert not losses, (
            f"the {category} round trip lost or changed meaning in {len(losses)} resource(s): "
            + " | ".join(loss.describe(3) for loss in losses[:3]))


def invalid_is_rejected(*, hp: Any, patient: PatientIdentity, mutation: Mutation, category: str, evidence: Any,
                        prop: str) -> None:
    """EHDS-INT-012: a document with one rule broken is refused with a reason, and nothing of it
    is kept (the fresh patient stays unknown, or has no document)."""
    tag = mutation.to_json()
    with example_scope(evidence, prop).example(patient=patient.identifier, category=category, mutation=tag):
        evidence.add("mutation", {"mutation": tag})
        evidence.add("document", mutation.document, label=f"{category} with {mutation.kind}")
        try:
            hp.submit(mutation.document)
        except Rejected as answer:
            assert (answer.reason or "").strip(), (
                f"the {category} document with {mutation.kind} ({mutation.rule}) was rejected without a reason")
            evidence.add("rejection", {"reason": answer.reason[:500]})
        else:
            raise AssertionError(
                f"a {category} document with {mutation.kind} was accepted: {mutation.description} "
                f"(rule {mutation.rule} at {mutation.location}); the SUT returned a receipt instead of Rejected")
        try:
            pid = hp.find_patient(patient.identifier)
        except NotFound:
            return
        left = hp.list_documents(pid)
        assert not left, (f"after rejecting a {category} document with {mutation.kind}, the SUT kept "
                          f"{len(left)} document(s) for the patient {patient.identifier}")
