"""Hypothesis strategies for patients and complete priority-category documents.

``documents(category)`` runs the same builders as :func:`conformance.documents.valid_document`
with every choice drawn by hypothesis, then re-keys the ids from the content so two different
documents never share a resource id (a SUT that stores resources by id must not see clashes).
A check that makes its own patient binds a drawn document to it with
:func:`conformance.documents.for_patient`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

from conformance.documents import (
    _FAMILIES,
    _GENDERS,
    _GIVENS,
    PATIENT_ID_SYSTEM,
    PatientIdentity,
    _check_category,
    build_document,
    content_digest,
    rekey,
)
from conformance.strategies.choosers import HypothesisChooser


@st.composite
def patients(draw: Any, system: str = PATIENT_ID_SYSTEM) -> PatientIdentity:
    """Patient identities (shrink towards the first name of each list and the earliest birth date)."""
    return PatientIdentity(
        identifier=f"{system}|H{draw(st.integers(0, 10**9)):09d}",
        family=draw(st.sampled_from(_FAMILIES)),
        given=draw(st.sampled_from(_GIVENS)),
        birth_date=draw(st.dates(date(1930, 1, 1), date(2020, 12, 31))).isoformat(),
        gender=draw(st.sampled_from(_GENDERS)),
    )


@st.composite
def _documents(draw: Any, category: str, patient: PatientIdentity | None,
               prescription: dict[str, Any] | None, ps_counts: dict[str, int] | None) -> dict[str, Any]:
    who = patient if patient is not None else draw(patients())
    bundle = build_document(category, who, HypothesisChooser(draw), namespace="h", prescription=prescription,
                            ps_counts=ps_counts)
    return rekey(bundle, f"{who.identifier}|{content_digest(bundle)}")


def documents(category: str, patient: PatientIdentity | None = None, *, prescription: dict[str, Any] | None = None,
              ps_counts: dict[str, int] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Complete, valid document Bundles of a priority category.

    ``patient``: about this patient (default: a drawn one). ``prescription`` (edispensation):
    dispense against this ePrescription Bundle. ``ps_counts`` (patient-summary): fix the number of
    entries per section, e.g. ``{"allergies": 0}`` for an explicitly empty allergies section.
    """
    _check_category(category)
    return _documents(category, patient, prescription, ps_counts)
