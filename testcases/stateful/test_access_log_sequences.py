"""Annex II 3.2 / Art 9 over random sequences: every access by professionals of two organisations, patients
reading their own log and prying into others', wrong credentials and claimed roles; every invariant is
checked after every step against the model (testcases/ehds_support/model.py).

Each check runs the access-log machine (ehds_support.areas) once per run and fails only for its own
requirement, with the shrunk sequence and the command that replays it (ehds_support.stateful)."""

from __future__ import annotations

import pytest

from conformance.adapter import Capability
from ehds_support.stateful import certify

AREA = "access-log"


@pytest.mark.requirement("EHDS-LOG-001")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_every_access_leaves_an_entry_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: each listing and fetch by either professional
    adds at least one entry to the patient's log (read by the auditor after the step). Decides EHDS-LOG-001
    because Annex II 3.2 asks for a record of each access."""
    certify(request, AREA, "EHDS-LOG-001", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-002")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_every_entry_names_the_accessing_organisation_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: every entry an access added names the
    organisation the system granted the professional (not another one), also for refused attempts. Decides
    EHDS-LOG-002 because 3.2(a) asks for the provider on whose behalf the data was accessed."""
    certify(request, AREA, "EHDS-LOG-002", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-003")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_every_entry_names_the_accessing_person_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: every entry an access added (successful or
    refused, by a professional or a patient) names that person as requestor. Decides EHDS-LOG-003 because
    3.2(b) asks for the natural person who accessed."""
    certify(request, AREA, "EHDS-LOG-003", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-004")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_every_entry_names_the_categories_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: the entries of a fetch state the category of
    the document served; those of a search by type the category searched. Decides EHDS-LOG-004 because
    3.2(c) asks for the categories accessed."""
    certify(request, AREA, "EHDS-LOG-004", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-005")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_every_entry_has_the_time_of_access_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: every entry's `recorded` carries a time-zone
    offset and lies within the step's window (5 min tolerance). Decides EHDS-LOG-005 because 3.2(d) asks for
    date and time."""
    certify(request, AREA, "EHDS-LOG-005", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-006")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_every_entry_names_the_origin_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: the entries of a fetch name the custodian
    organisation of the very document served. Decides EHDS-LOG-006 because 3.2(e) asks for the origin of the
    data."""
    certify(request, AREA, "EHDS-LOG-006", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-007")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_every_entry_identifies_its_patient_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: every entry names the patient whose data was
    accessed and no other known patient (near-duplicate identifiers included). Decides EHDS-LOG-007 because
    Art 9 needs the log queried per patient."""
    certify(request, AREA, "EHDS-LOG-007", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-008")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_auditor_reviews_every_log_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: the auditor reads every patient's log after
    every step, and it is made of FHIR AuditEvents. Decides EHDS-LOG-008 because Annex II 3.3 asks that the
    log can be reviewed or handed to analysis software."""
    certify(request, AREA, "EHDS-LOG-008", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-009")
@pytest.mark.capability(Capability.ACCESS_LOG)
@pytest.mark.capability(Capability.PATIENT_ACCESS)
def test_patient_sees_every_access_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: the patient, logged in by any of their
    identifiers, reads their own log; it holds every entry the auditor saw for professionals' accesses to
    them and none about other patients. Decides EHDS-LOG-009 because Art 9 gives the person the account of
    who accessed their data."""
    certify(request, AREA, "EHDS-LOG-009", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-013")
@pytest.mark.capability(Capability.ACCESS_LOG)
@pytest.mark.capability(Capability.PATIENT_ACCESS)
def test_refused_attempts_are_logged_as_refused_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: a patient's refused (Denied) request for
    another patient's data adds an entry with outcome other than 0 to that patient's log. Decides EHDS-
    LOG-013 because refused attempts are to be logged, marked as failed."""
    certify(request, AREA, "EHDS-LOG-013", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-LOG-014")
@pytest.mark.capability(Capability.ACCESS_LOG)
def test_no_entry_carries_payload_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: no entry an access added embeds a FHIR
    resource or a token. Decides EHDS-LOG-014 because log records hold neither clinical content nor tokens."""
    certify(request, AREA, "EHDS-LOG-014", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-SEC-006")
def test_wrong_credentials_and_claimed_roles_are_refused_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: logins with variants of wrong credentials
    (empty, case-changed, truncated, padded or another account's password; near-miss identifiers) and with
    roles the client claims (auditor with a professional's login, professional with the auditor's or a
    patient's login) are all refused. Decides EHDS-SEC-006 because the system must reliably authenticate the
    professional; a role is what the system grants, not what the client says."""
    certify(request, AREA, "EHDS-SEC-006", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-SEC-004")
@pytest.mark.capability(Capability.PATIENT_ACCESS)
def test_patient_session_reaches_only_own_data_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the access-log machine
    and compares it with the model after every step. Observed: a patient's session asks for another
    patient's listing, document, log and identity; each is refused (Denied or NotFound), nothing is
    returned. Decides EHDS-SEC-004 because a patient's access is limited to their own compartment
    (patient/*.rs), in process as over HTTP."""
    certify(request, AREA, "EHDS-SEC-004", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)
