"""EHDS-INT-011 over random sequences: documents received under different identifiers, in batches past a
page, partly restricted; the data holder's full export after any step.

Each check runs the export machine (ehds_support.areas) once per run and fails only for its own
requirement, with the shrunk sequence and the command that replays it (ehds_support.stateful)."""

from __future__ import annotations

import pytest

from conformance.adapter import Capability
from ehds_support.stateful import certify

AREA = "export"


@pytest.mark.requirement("EHDS-INT-011")
@pytest.mark.capability(Capability.SUBMIT)
@pytest.mark.capability(Capability.FULL_EXPORT)
def test_full_export_is_complete_in_any_sequence(request, sut, accounts, new_patient, documents, sut_description, evidence):
    """Procedure: hypothesis drives the SUT through random, reproducible sequences of the export machine and
    compares it with the model after every step. Observed: the full export (auditor account) returns every
    document received for the patient exactly once, whatever the restrictions and identifiers, and nothing
    of anybody else. Decides EHDS-INT-011 because the system must be replaceable without losing data."""
    certify(request, AREA, "EHDS-INT-011", sut=sut, accounts=accounts, new_patient=new_patient, documents=documents,
            sut_description=sut_description, evidence=evidence)
