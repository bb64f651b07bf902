"""The Sesali broken-EHR (and broken-client) catalogue: each mutant is the reference EHR (or the
reference client) with exactly ONE rule broken, caught by exactly its French requirement.

``MUTANTS`` maps each name to ``(factory path, requirement expected to fail, description)``;
``PROFILE`` names the profile each runs under (``fr-sesali`` for the EHR side, ``fr-sesali-client``
for the client side). Run one by hand with::

    conformance run --profile fr-sesali --adapter tests.mutants.sesali.ignores_consent:create
"""

from __future__ import annotations

from tests.mutants import Mutant


def _m(name: str, requirement: str, description: str) -> tuple[str, Mutant]:
    return name, Mutant(f"tests.mutants.sesali.{name}:create", requirement, description)


MUTANTS: dict[str, Mutant] = dict([
    _m("ignores_consent", "FR-003", "an access for cross-border care is served without the patient's consent"),
    _m("withdrawal_ignored", "FR-003", "a withdrawn consent still lets the professional in"),
    _m("consent_for_anyone", "FR-003", "a consent naming one professional lets every professional in"),
    _m("consent_not_in_log", "FR-003", "the log entry of a consented access does not refer to the consent"),
    _m("consent_refusal_not_logged", "FR-003", "an access refused for want of consent is not logged"),
    _m("withdrawal_by_consent_id_only", "FR-003", "a consent id given under another patient withdraws that patient's consent"),
    _m("any_patient_records_consent", "FR-003", "a signed-in patient may record or withdraw any patient's consent"),
    _m("consent_rejected_unless_blank", "FR-003", "the blank-purpose guard is inverted: every real consent is rejected"),
    _m("purpose_fetch_skips_authorization", "FR-003", "the consent-bound access serves a patient any other patient's summary"),
    _m("displays_original_language", "FR-004", "the translation catalogue is never used: items shown as received"),
    _m("drops_untranslatable", "FR-004", "a code the catalogue cannot translate is left off the screen"),
    _m("loses_original_text", "FR-004", "translated items no longer carry their original text"),
    _m("traits_ignore_birth_date", "FR-005", "the birth date trait is never compared"),
    _m("traits_partial_identifier", "FR-005", "an identifier trait matches by prefix"),
    _m("psc_trusts_any_issuer", "FR-002", "PSC ID tokens from any issuer are accepted"),
    _m("psc_ignores_audience", "FR-002", "PSC ID tokens issued for another client are accepted"),
    _m("psc_accepts_expired", "FR-002", "expired PSC ID tokens are accepted"),
    _m("psc_skips_signature", "FR-002", "PSC ID tokens are not signature-checked (alg none, unknown keys pass)"),
    _m("psc_ignores_practice", "FR-002", "a PSC-authenticated person without a French practice gets in"),
    _m("psc_logs_subject", "FR-002", "the log records the token's opaque subject, not the RPPS"),
    _m("client_skips_psc", "FR-CLI-001", "the client calls the contact point without the PSC token"),
    _m("client_omits_trait", "FR-CLI-002", "the client's patient search leaves out one identity trait"),
    _m("client_skips_consent", "FR-CLI-002", "the client never sends the patient's consent"),
    _m("client_shows_original", "FR-CLI-003", "the client never uses the translation catalogue"),
    _m("client_logs_successes_only", "FR-CLI-004", "the client's log records successes only"),
    _m("client_unavailable_as_not_found", "FR-CLI-004", "'country not available' is reported as 'not found'"),
])

#: The profile each mutant runs under (default fr-sesali).
PROFILE: dict[str, str] = {name: "fr-sesali-client" for name in MUTANTS if name.startswith("client_")}

__all__ = ["MUTANTS", "PROFILE"]
