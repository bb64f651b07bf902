"""Realistic vendor bugs: each the reference EHR with ONE bug of the kind EHR vendors ship.

Unlike the first catalogue (tests/mutants/, one rule removed each), these bugs hide where short
scenarios do not look: past a page of results or a number of records, after a later event (a new
document, a lifted restriction, an emergency access), in near-duplicate identities and names outside
Latin-1, in worded variants of a purpose, in variants of wrong credentials and claimed roles, in the
content of the log beyond its presence, and in the completeness of the export. Each module is
``tests.mutants.realistic.<name>:create``::

    conformance run --adapter tests.mutants.realistic.restriction_ignored_after_20th_document:create

``REALISTIC`` maps each name to ``Mutant(factory path, requirement it breaks, description)``.
"""

from __future__ import annotations

from tests.mutants import Mutant


def _m(name: str, requirement: str, description: str) -> tuple[str, Mutant]:
    return name, Mutant(f"tests.mutants.realistic.{name}:create", requirement, description)


REALISTIC: dict[str, Mutant] = dict([
    _m("log_refusal_without_person", "EHDS-LOG-003", "entries of refused attempts name no person (only the client software)"),
    _m("log_organisation_cached", "EHDS-LOG-002", "the provider agent is cached from the first access, so every later entry names that organisation"),
    _m("log_category_of_first_document", "EHDS-LOG-004", "a read is logged with the category of the patient's first document, not of the one served"),
    _m("log_time_loses_offset_when_busy", "EHDS-LOG-005", "once a patient has 25 log entries, new entries are recorded without a time-zone offset"),
    _m("log_origin_of_first_document", "EHDS-LOG-006", "the origin logged is the custodian of the patient's first document, whatever was served"),
    _m("log_patient_from_session", "EHDS-LOG-007", "a patient's refused request is logged about the requesting patient, not about the patient whose data was asked"),
    _m("log_embeds_lab_results", "EHDS-LOG-014", "reads of laboratory documents carry the served Bundle inside the log entry"),
    _m("forgets_filtered_searches", "EHDS-LOG-001", "searches by document type are not logged (unfiltered listings and fetches are)"),
    _m("patient_refusals_logged_as_success", "EHDS-LOG-013", "a patient's refused request is logged with outcome 0 (success)"),
    _m("patient_log_first_page_only", "EHDS-LOG-009", "the patient's own view of the log shows the first 20 entries only (no next page)"),
    _m("ordinary_reads_flagged_after_emergency", "EHDS-LOG-012", "after one emergency access, every later access to that patient is logged as an emergency too"),
    _m("emergency_purpose_not_logged", "EHDS-LOG-012", "emergency access is flagged BTG but the stated purpose is not kept"),
    _m("trims_whitespace_at_login", "EHDS-SEC-006", "passwords are trimmed before checking, so a password with a trailing space is accepted"),
    _m("login_identifier_case_insensitive", "EHDS-SEC-006", "professional logins match the account identifier case-insensitively"),
    _m("role_from_client_claim", "EHDS-SEC-006", "the role is taken from what the client claims: a professional's login works as an auditor"),
    _m("patient_login_by_prefix", "EHDS-SEC-006", "a patient logs in with any prefix of a known identifier"),
    _m("patient_reads_any_log", "EHDS-SEC-004", "a patient's session may read any patient's access log"),
    _m("patient_lists_any_record", "EHDS-SEC-004", "a patient's session may list any patient's documents"),
    _m("restriction_ignored_after_20th_document", "EHDS-SEC-007", "the restriction is applied to the first 20 documents of a patient only"),
    _m("category_restriction_spares_new_documents", "EHDS-SEC-007", "a category restriction only covers documents received before it was set"),
    _m("lift_keeps_document_restrictions", "EHDS-SEC-007", "a new restriction is added to the earlier ones instead of replacing them: lifted documents stay hidden"),
    _m("emergency_override_sticks", "EHDS-SEC-007", "after an emergency access, the professional keeps seeing the restricted documents"),
    _m("emergency_nbsp_purpose_accepted", "EHDS-SEC-008", "a purpose of non-breaking or ideographic spaces counts as stated"),
    _m("emergency_english_keywords_only", "EHDS-SEC-008", "emergency access is granted only when the purpose contains an English keyword"),
    _m("listing_drops_page_boundary", "EHDS-INT-003", "a listing of more than 20 documents loses the 21st (off-by-one at the page boundary)"),
    _m("listing_custodian_is_reader", "EHDS-INT-003", "the listing names the reader's organisation as the custodian of every document, not the organisation it came from"),
    _m("listing_date_is_storage_time", "EHDS-INT-003", "the listing gives the time the document was stored instead of its date"),
    _m("fetch_by_id_ignores_id", "EHDS-INT-004", "when a category is given too, fetch returns the latest document of the category, not the one asked"),
    _m("latest_is_oldest", "EHDS-INT-004", "documents come newest first, so 'the latest' fetched is the oldest"),
    _m("latest_first_received_on_tie", "EHDS-INT-004", "of two documents dated the same instant, 'the latest' fetched is the one received first"),
    _m("find_patient_by_prefix", "EHDS-INT-002", "patient lookup matches identifier values by prefix"),
    _m("find_patient_case_insensitive", "EHDS-INT-002", "patient lookup ignores the case of the identifier value"),
    _m("matches_first_identifier_only", "EHDS-INT-002", "incoming documents are matched to a patient by their first identifier only"),
    _m("names_mangled_outside_latin1", "EHDS-INT-008", "patient names are exported through Latin-1: other letters become '?'"),
    _m("export_skips_second_identifier", "EHDS-INT-011", "the full export leaves out documents received under another identifier of the patient"),
    _m("export_first_50_only", "EHDS-INT-011", "the full export stops after 50 documents"),
    _m("export_applies_restriction", "EHDS-INT-011", "the full export leaves out the documents the patient restricted"),
    _m("log_purged_after_one_year", "EHDS-LOG-010", "the access log is kept for one year only"),
    _m("log_hidden_after_two_years", "EHDS-LOG-010", "ten years declared, but the log search only looks two years back"),
])

__all__ = ["REALISTIC"]
