"""The complete export for system replacement (EHDS-INT-011) in the reference EHR."""

from __future__ import annotations

import pytest

from conformance import auditlog
from conformance.adapter import Denied, Restriction
from tests.reference.bundles import document, new_patient_identifier


def test_the_data_holder_exports_every_document_once_restricted_ones_included(world):
    ident = new_patient_identifier()
    sent = [document(c, ident, title=f"doc {n}") for n, c in enumerate(("patient-summary", "laboratory",
                                                                          "patient-summary"))]
    receipts = [world.ehr.submit(world.hp, b) for b in sent]
    pid = receipts[0].patient_id
    world.ehr.restrict(world.patient(ident), pid, Restriction(categories=frozenset({"laboratory"})))
    exported = world.ehr.export_all(world.auditor, pid)
    assert exported == sent  # oldest first, FHIR exactly as received, the restricted one too
    last = world.ehr.access_log(world.auditor, pid)[-1]  # the export is logged as a read of what it exported
    assert last["action"] == "R" and last["outcome"] == "0"
    assert auditlog.categories(last) == {"patient-summary", "laboratory"}
    assert auditlog.identifier_value(world.auditor.identifier) in auditlog.person_ids(last)


@pytest.mark.parametrize("who", ["hp", "patient"])
def test_only_the_data_holder_may_export_everything(world, who):
    ident = new_patient_identifier()
    pid = world.ehr.submit(world.hp, document("patient-summary", ident)).patient_id
    principal = world.hp if who == "hp" else world.patient(ident)
    with pytest.raises(Denied):
        world.ehr.export_all(principal, pid)
    refused = world.ehr.access_log(world.auditor, pid)[-1]
    assert refused["outcome"] == "4"
