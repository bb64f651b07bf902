"""The reference EHR validates a document's content once per validator: instances of one process share the
process-wide validator's answers (the mutant catalogue re-sends the same documents in every run)."""

from __future__ import annotations

from typing import Any

from conformance.adapters.reference import service


class _CountingValidator:
    def __init__(self) -> None:
        self.calls = 0

    def validate(self, bundle: dict[str, Any]) -> list[Any]:
        self.calls += 1
        return []


def test_same_content_is_validated_once_per_validator_and_not_across_validators() -> None:
    first, second = _CountingValidator(), _CountingValidator()
    bundle = {"resourceType": "Bundle", "type": "document", "id": "memo-test"}
    for _ in range(3):
        service._remembered(first, dict(bundle))
    assert first.calls == 1
    service._remembered(second, bundle)
    assert second.calls == 1  # another validator (other packages, other settings) answers for itself
    service._remembered(first, {**bundle, "id": "other"})
    assert first.calls == 2  # other content is validated


def test_the_memo_keeps_at_most_its_size(monkeypatch) -> None:
    monkeypatch.setattr(service, "VALIDATION_MEMO_SIZE", 3)
    validator = _CountingValidator()
    for i in range(5):
        service._remembered(validator, {"resourceType": "Bundle", "id": str(i)})
    assert len(service._memo[validator]) == 3
    service._remembered(validator, {"resourceType": "Bundle", "id": "0"})  # the oldest was dropped
    assert validator.calls == 6
