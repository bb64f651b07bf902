"""Identity and discovery over random sequences: several identifiers per patient, identifiers sharing a
prefix, the same value in another system, namesakes born the same day, names outside Latin-1.

Each check runs the identity machine (ehds_support.areas) once per run and fails only for its own
requirement, with the shrunk sequence and the command that replays it (ehds_support.stateful)."""

from __future__ import annotations

import pytest

from conformance.adapter import Capability
from ehds_support.stateful import certify

AREA = "identity"


@pytest.mark.requirement("EHDS-INT-002")
@pytest.mark.capability(Capability.SUBMIT)
def test_patients_are_found_by_every_identifier_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the identity machine and
    compares it with the model after every step. Observed: every identifier of every patient finds exactly
    that patient; near misses (prefix, extension, case, other system, padding) find nobody or their real
    owner; documents sent under any identifier subset are filed under the same patient. Decides EHDS-INT-002
    because a lookup by identifier must give exactly that patient."""
    certify(request, AREA, "EHDS-INT-002", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)


@pytest.mark.requirement("EHDS-INT-008")
@pytest.mark.capability(Capability.SUBMIT)
@pytest.mark.capability(Capability.EXPORT)
def test_names_and_identifiers_survive_export_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the identity machine and
    compares it with the model after every step. Observed: each fetched document's Patient keeps the name
    (including non-Latin-1 letters) and identifier it was received with. Decides EHDS-INT-008 because
    received data must be provided again with the same meaning."""
    certify(request, AREA, "EHDS-INT-008", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)
