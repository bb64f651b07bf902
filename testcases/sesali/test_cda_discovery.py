"""EHDS-INT-003 for received CDA documents: a pivot CDA is discoverable like a FHIR document, its listing entry
naming the patient, the document's own date (its effectiveTime) and its custodian.

The FHIR documents' listing is checked by testcases/core/test_discovery.py; a CDA document's metadata comes from
other fields (ClinicalDocument/effectiveTime, custodian/assignedCustodian/representedCustodianOrganization/id),
which an EHR maps with its own code, so it is checked on its own.
"""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from conformance.adapter import Capability, Rejected, document_time
from conformance.cda import validate_document
from conformance.cda.documents import ehdsi_patient_summary
from conformance.errors import HarnessError

CATEGORY = "patient-summary"
_NS = {"h": "urn:hl7-org:v3"}
#: a past instant with seconds, so a date taken from the time of filing, or a time cut short, shows
EFFECTIVE = dt.datetime(2025, 3, 14, 21, 26, 53, tzinfo=dt.UTC)


def cda_custodian(data: bytes) -> str:
    """The custodian organisation's id as ``system|value`` (II root as ``urn:oid:``, extension as value), or ""."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    ids = root.xpath("h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:id", namespaces=_NS)
    if not ids or not ids[0].get("root"):
        return ""
    ii = ids[0]
    return (f"urn:oid:{ii.get('root')}|{ii.get('extension')}" if ii.get("extension")
            else f"urn:ietf:rfc:3986|urn:oid:{ii.get('root')}")


@pytest.mark.requirement("EHDS-INT-003")
@pytest.mark.capability(Capability.CDA, Capability.SUBMIT)
@pytest.mark.category(CATEGORY)
def test_received_cda_is_discoverable_with_its_date_and_custodian(sut, accounts, new_patient, evidence):
    """Procedure: generate a valid eHDSI patient summary CDA for a fresh patient, dated 2025-03-14T21:26:53Z
    (effectiveTime), submit it as the health professional, look the patient up by identifier and list the
    patient's patient summaries. Observed: the listing entry of the filed document: its patient, its date
    against the effectiveTime, its custodian against the CDA's custodian organisation id (II root as urn:oid,
    extension as value). Decides EHDS-INT-003 because a received document must be discoverable by patient and
    type, its entry naming the subject, the document's own date (the same instant when the entry gives a time,
    the same day otherwise) and its custodian, whatever format it came in."""
    hp = sut.login(accounts.hp)
    patient = new_patient()
    data = ehdsi_patient_summary(patient, effective_time=EFFECTIVE)
    errors = [i for i in validate_document(data) if i.is_error]
    if errors:  # our own fixture is wrong: the harness's fault, not the SUT's
        raise HarnessError(f"the generated eHDSI patient summary does not validate: {errors[0].message}")
    custodian = cda_custodian(data)
    if not custodian:
        raise HarnessError("the generated eHDSI patient summary names no custodian organisation id")
    try:
        receipt = hp.submit(data)
    except Rejected as exc:
        raise AssertionError(f"a valid eHDSI patient summary CDA was rejected: {exc.reason[:500]}") from None
    pid = hp.find_patient(patient.identifier)
    listed = {d.document_id: d for d in hp.list_documents(pid, CATEGORY)}
    assert receipt.document_id in listed, (
        f"the received CDA {receipt.document_id} is not listed among the patient's patient summaries "
        f"({sorted(listed)})")
    entry = listed[receipt.document_id]
    evidence.note(f"listing entry of {entry.document_id}: patient {entry.patient_id}, date {entry.date!r}, "
                  f"custodian {entry.custodian!r}")
    assert entry.patient_id == pid, f"the CDA's listing entry names patient {entry.patient_id!r}, not {pid!r}"
    expected = EFFECTIVE.isoformat().replace("+00:00", "Z")
    assert entry.date and entry.date[:10] == expected[:10], (
        f"the listing gives the received CDA the date {entry.date!r}; its effectiveTime is {expected}")
    if len(entry.date) > 10:
        assert document_time(entry.date) == EFFECTIVE, (
            f"the listing gives the received CDA the time {entry.date!r}; its effectiveTime is {expected}")
    assert entry.custodian == custodian, (
        f"the listing names no custodian for the received CDA; it came from {custodian}"
        if entry.custodian is None else
        f"the listing names {entry.custodian} as the custodian of the received CDA; it came from {custodian}")
