"""mutations(document): each mutant breaks the rule it is tagged with, and only that rule."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.documents import CATEGORY_PROFILES, new_patient_identity, valid_document
from conformance.errors import UsageError
from conformance.fhir import default_validator
from conformance.strategies import documents, mutations
from conformance.strategies.mutants import MUTATION_KINDS, mutate

CATEGORIES = sorted(CATEGORY_PROFILES)
_SETTINGS = settings(max_examples=8, derandomize=True, database=None, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example,
                                            HealthCheck.data_too_large])


@pytest.mark.parametrize("kind", MUTATION_KINDS)
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_kind_for_every_category(category: str, kind: str) -> None:
    validator = default_validator()

    @_SETTINGS
    @given(st.data())
    def prop(data):
        document = data.draw(documents(category), label="document")
        assert not [i for i in validator.validate(document) if i.is_error]
        mutation = data.draw(mutations(document, kinds=kind), label="mutation")
        assert mutation.kind == kind
        errors = [i for i in validator.validate(mutation.document) if i.is_error]
        assert any(i.rule == mutation.rule for i in errors), (mutation.to_json(), [(i.rule, i.location) for i in errors])
        assert mutation.document != document

    prop()


def test_mutate_lists_exact_mutants() -> None:
    doc = valid_document("laboratory", new_patient_identity(1, namespace="m"), seed=4)
    found = mutate(doc)
    kinds = {m.kind for m in found}
    assert kinds == set(MUTATION_KINDS)
    rules = {m.rule for m in found if m.kind == "broken-invariant"}
    assert {"ehds-lab-3", "ehds-lab-obs-1"} <= rules
    for m in found:
        assert set(m.to_json()) == {"kind", "rule", "location", "description"}


def test_bad_arguments() -> None:
    doc = valid_document("imaging", new_patient_identity(1, namespace="m"))
    with pytest.raises(UsageError, match="unknown mutation kind"):
        mutations(doc, kinds="typo")
    with pytest.raises(UsageError, match="document Bundle"):
        mutations({"resourceType": "Patient"})
