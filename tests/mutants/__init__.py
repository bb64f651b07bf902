"""The broken-adapter catalogue: each mutant is the reference EHR with exactly ONE rule broken.

A mutant is a subclass of :class:`conformance.adapters.reference.service.ReferenceEHR`
overriding one small method, exposed as an adapter factory
``tests.mutants.<name>:create``. Run the suite against one with::

    conformance run --adapter tests.mutants.forgets_read_log:create

``MUTANTS`` maps each name to ``(factory path, requirement id expected to fail,
description)``. The requirement is ``None`` for the mutants in ``ERROR_MUTANTS``:
they crash or hang, and the checks touching the broken call must end in an *error*
verdict (not a fail) while the run carries on.
"""

from __future__ import annotations

from typing import NamedTuple


class Mutant(NamedTuple):
    factory: str
    requirement: str | None
    description: str


def _m(name: str, requirement: str | None, description: str) -> tuple[str, Mutant]:
    return name, Mutant(f"tests.mutants.{name}:create", requirement, description)


MUTANTS: dict[str, Mutant] = dict([
    _m("forgets_read_log", "EHDS-LOG-001", "an ordinary fetch is not logged (listings, submissions still are)"),
    _m("log_without_organisation", "EHDS-LOG-002", "log entries omit the healthcare provider agent"),
    _m("log_without_person", "EHDS-LOG-003", "log entries name only the client system, not the person"),
    _m("log_without_category", "EHDS-LOG-004", "log entries do not state the category of data"),
    _m("log_without_timezone", "EHDS-LOG-005", "the access time is recorded without a time-zone offset"),
    _m("log_wrong_time", "EHDS-LOG-005", "the access time is two hours off (local wall time labelled UTC)"),
    _m("log_without_origin", "EHDS-LOG-006", "log entries do not name the origin (custodian) of the data"),
    _m("log_without_patient", "EHDS-LOG-007", "AuditEvents do not identify the patient"),
    _m("leaks_restricted_data", "EHDS-SEC-007", "the patient's restriction is never applied"),
    _m("reveals_restriction", "EHDS-SEC-007", "listings and exports say that documents were withheld"),
    _m("accepts_anonymous", "EHDS-SEC-006", "a caller without credentials gets in"),
    _m("accepts_wrong_password", "EHDS-SEC-006", "a known identifier with any password gets in"),
    _m("stores_invalid_document", "EHDS-INT-012", "an invalid document is rejected but left stored"),
    _m("accepts_invalid_document", "EHDS-INT-012", "invalid documents are accepted"),
    _m("emergency_without_purpose", "EHDS-SEC-008", "emergency access is granted with a blank purpose"),
    _m("emergency_not_flagged_in_log", "EHDS-LOG-012", "emergency access is logged without BTG"),
    _m("returns_wrong_patient", "EHDS-INT-004", "the export carries another patient's identity"),
    _m("returns_collection_bundle", "EHDS-INT-004", "the export is a collection Bundle, not a document"),
    _m("patient_cannot_read_own_log", "EHDS-LOG-009", "the patient is refused their own access log"),
    _m("display_not_logged", "EHDS-LOG-001", "showing a summary in the professional's language writes no log entry"),
    _m("display_skips_authorization", "EHDS-SEC-004", "the translated display shows any patient's summary to a "
                                                       "signed-in patient"),
    _m("forgets_refused_attempts", "EHDS-LOG-013", "refused attempts are not logged (a SHOULD)"),
    _m("auditor_cannot_read_log", "EHDS-LOG-008", "the auditor may not read the access log"),
    _m("ignores_category_filter", "EHDS-INT-003", "a search by document type returns every document"),
    _m("cda_listed_with_local_date", "EHDS-INT-003", "a received CDA's effectiveTime is listed as local wall time "
                                                     "(its offset dropped)"),
    _m("find_patient_ignores_system", "EHDS-INT-002", "patient lookup ignores the identifier system"),
    _m("log_copies_payload", "EHDS-LOG-014", "log entries carry the clinical document served (a SHOULD)"),
    _m("overclaims_imaging", "EHDS-GEN-001", "declares imaging but rejects every imaging document"),
    _m("professionals_cannot_submit", "EHDS-GEN-001", "the role table leaves 'submit' out for health professionals: "
                                                      "every document is refused (Denied)"),
    _m("partial_export", "EHDS-INT-011", "the full export for system replacement omits the oldest document"),
    _m("reformats_cda", "XB-006", "a received CDA is pretty-printed on storage: the original bytes are lost"),
    _m("drops_secondary_identifiers", "FR-001", "only the Patient's first identifier is kept: the INS is lost"),
    _m("exports_first_identifier_only", "FR-001", "the INS is stored (found by INS) but not in the export"),
    _m("drops_substitution", "ED-001", "exported dispensations no longer say whether the medicine was substituted"),
    _m("hangs_on_fetch", None, "fetch never returns: checks that fetch get an error verdict"),
    _m("crashes_on_submit", None, "submit raises RuntimeError: checks that submit get an error verdict"),
    _m("clock_does_not_move", None, "declares the sandbox clock, but shift_clock changes nothing: the retention "
                                    "check gets an error verdict, never a pass"),
    _m("traits_setup_ignored", None, "declares trait lookup, but the trait table set-up does nothing: every lookup "
                                     "answers NotSupported, an error of FR-005 (the declaration is untrue)"),
])

#: Requirements a mutant cannot help failing besides its own, with the reason (measured against
#: the shipped ehds-core checks). Each is an overlap by nature, not a vague check:
COLLATERAL: dict[str, dict[str, str]] = {
    "drops_substitution": {
        "EHDS-INT-008": "an element received and not given back is a loss of meaning in the round trip by definition",
    },
    "log_without_timezone": {
        "EHDS-LOG-014": "an access time without an offset is not a valid FHIR instant, so the entry is no valid "
                        "AuditEvent either (log_wrong_time breaks EHDS-LOG-005 alone)",
    },
    "returns_wrong_patient": {
        "EHDS-INT-008": "an export about another person is not the document that was received (round trip)",
    },
    "drops_secondary_identifiers": {
        "EHDS-INT-002": "a patient whose second identifier is dropped cannot be found by it any more (the identity "
                        "machine looks patients up by every identifier they were received with)",
    },
    "ignores_category_filter": {
        "EHDS-INT-004": "the type filter it drops is the one fetch uses too: asking a patient's latest summary "
                        "returns their latest document of any type (seen once a patient has two categories)",
    },
    "returns_collection_bundle": {
        "EHDS-INT-005": "a collection Bundle does not conform to the document Bundle profiles",
    },
}

#: Mutants whose requirement is not in the default profile (ehds-core): the profile to run them with.
PROFILE_FOR: dict[str, str] = {
    "drops_substitution": "ehds-edispensation",
    "reformats_cda": "fr-sesali",
    "drops_secondary_identifiers": "fr-sesali",
    "exports_first_identifier_only": "fr-sesali",
    "traits_setup_ignored": "fr-sesali",
    "cda_listed_with_local_date": "fr-sesali",
    "display_not_logged": "fr-sesali",
    "display_skips_authorization": "fr-sesali",
}

#: Mutants whose expected outcome is an *error* verdict on the checks using the broken call.
ERROR_MUTANTS: frozenset[str] = frozenset(name for name, m in MUTANTS.items() if m.requirement is None)

#: Error mutants whose broken call only one requirement's checks use: exactly these get the error.
ERRORS_EXPECTED: dict[str, frozenset[str]] = {"clock_does_not_move": frozenset({"EHDS-LOG-010"}),
                                               "traits_setup_ignored": frozenset({"FR-005"})}

__all__ = ["COLLATERAL", "ERRORS_EXPECTED", "ERROR_MUTANTS", "MUTANTS", "PROFILE_FOR", "Mutant"]
