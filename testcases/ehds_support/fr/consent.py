"""Steps of the consent checks (FR-003): recording and withdrawing through the contract's optional
methods, and reading what the log says about an access subject to consent."""

from __future__ import annotations

import json
from typing import Any

from conformance.adapter import Denied, Rejected


def refused(call: Any) -> str | None:
    """Run `call`; the refusal reason when it is Denied, None when it was served."""
    try:
        call()
    except Denied as answer:
        return answer.reason or "denied"
    return None


def refers_to(event: dict[str, Any], consent_id: str) -> bool:
    """Whether an AuditEvent refers to the consent: an entity or any reference naming ``Consent/<id>``
    (or the bare id in an entity's what.identifier)."""
    for entity in event.get("entity") or []:
        what = (entity or {}).get("what") or {}
        if what.get("reference") in (f"Consent/{consent_id}", consent_id):
            return True
        if ((what.get("identifier") or {}).get("value")) == consent_id:
            return True
    return f"Consent/{consent_id}" in json.dumps(event)


def is_refusal(event: dict[str, Any]) -> bool:
    """Outcome other than 0 (success): AuditEvent.outcome 4, 8 or 12."""
    return str(event.get("outcome", "0")) != "0"


def record(session: Any, patient_id: str, consent: Any) -> Any:
    """Record a consent; a refusal to record (Denied for the patient or their professional, Rejected for a
    consent with a purpose and a grantee) means a consented access can never happen: FR-003 fails."""
    try:
        return session.record_consent(patient_id, consent)
    except (Denied, Rejected) as answer:
        raise AssertionError(f"recording the patient's consent to {consent.purpose!r} was refused "
                             f"({type(answer).__name__}) for "
                             f"{session.actor.kind.value if session.actor else 'the actor'}: {answer.reason}") from None
