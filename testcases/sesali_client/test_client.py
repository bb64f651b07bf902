"""fr-sesali-client: the professional's software (logiciel métier) reading a foreign patient's summary
through Sesali.

The harness serves a mock national contact point (ehds_support/fr/ncp.py) protected by a mock Pro Sante
Connect (psc.py), with patient summaries built from the shipped generators; the adapter drives the client
(``login`` with the professional's PSC test login, then ``open_foreign_summary(country, traits,
consent=...)``) and the mock records every call it received (never the token itself). When a check cannot
decide its own requirement because another one is broken (an unauthenticated call, a consent or trait not
sent), it ends not-tested and names that requirement, so one defect is blamed once.
"""

from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import auditlog
from conformance.adapter import Actor, ActorKind, AdapterAnswer, Capability, Denied, NotFound, NotSupported
from conformance.cda.documents import ehdsi_patient_summary
from conformance.checks import inconclusive
from conformance.settings import example_scope, examples
from ehds_support.fr import catalogue, traits
from ehds_support.fr.psc import IDNPS_SYSTEM, PRACTISING

CATEGORY = "patient-summary"
#: A country the mock contact point is not connected to.
UNAVAILABLE = "IS"


def _professional(psc) -> Actor:
    return Actor(ActorKind.HEALTH_PROFESSIONAL, identifier=f"{IDNPS_SYSTEM}|{PRACTISING.national_id}",
                 name=f"{PRACTISING.given} {PRACTISING.family}", credentials=psc.login_credentials(PRACTISING))


def _foreign_patient(ncp, new_patient, documents, country: str, *, seed: int = 0):
    """A patient of `country` known to the mock contact point: (traits, summary sent, NCP patient id)."""
    patient = new_patient()
    given_traits = traits.traits_of(patient, country)
    summary = catalogue.with_local_coding(documents.valid(CATEGORY, patient, seed=seed), "LOC-042", "Sender-local finding 42")
    ncp_id = ncp.add_patient(country, given_traits, summary, ehdsi_patient_summary(patient))
    return given_traits, summary, ncp_id


def _open(session, country, given_traits, consent=True):
    """The summary shown, or the contract answer the client gave."""
    try:
        return session.open_foreign_summary(country, given_traits, consent=consent), None
    except AdapterAnswer as answer:
        return None, answer


def _calls(ncp, given_traits: dict, ncp_id: str | None) -> list[dict]:
    """The calls about one check's patient: those naming its identifier traits (unique per generated
    patient) or its contact point id."""
    systems = {t for table in traits.table().values() for t, system in table.items() if system}
    markers = [v for k, v in given_traits.items() if k in systems] + ([ncp_id] if ncp_id else [])
    return [c for c in ncp.calls if any(m in str(c) for m in markers)]


def _blame_upstream(calls: list[dict], *, given_traits: dict | None = None, consent: bool = False) -> None:
    """End not-tested when a requirement other than the check's own is what broke the flow."""
    if any(c.get("auth") != "valid" for c in calls):
        inconclusive("the client called the contact point without a valid Pro Sante Connect token; see FR-CLI-001")
    if given_traits is not None:
        searches = [c for c in calls if c["path"].endswith("/Patient")]
        if not any(c["query"] == given_traits for c in searches):
            inconclusive("the client did not send the country's identity traits as entered; see FR-CLI-002")
    if consent and not any(c["method"] == "POST" and c["path"].endswith("/Consent") for c in calls):
        inconclusive("the client did not send the patient's consent; see FR-CLI-002")


@pytest.mark.requirement("FR-CLI-001")
@pytest.mark.capability(Capability.FOREIGN_SUMMARY_CLIENT)
@settings(max_examples=examples(2))
@given(country=st.sampled_from(traits.countries()))
def test_every_call_carries_the_professionals_psc_token(sut, psc, ncp, new_patient, documents, evidence, country):
    """Procedure: a professional signs in to the client with their (mock) Pro Sante Connect login and opens
    the summary of a patient of `country` known to the mock contact point.
    Observed: the calls the contact point received about that patient, each with whether it carried a valid
    PSC access token and whom PSC issued it to.
    Decides FR-CLI-001 because the client must call only after authenticating the professional through PSC:
    every call carries a PSC token of that professional, none goes out without."""
    given_traits, _, ncp_id = _foreign_patient(ncp, new_patient, documents, country)
    with example_scope(evidence, "fr-cli-001-psc").example(country=country):
        session = sut.login(_professional(psc))
        shown, answer = _open(session, country, given_traits)
        calls = _calls(ncp, given_traits, ncp_id)
        evidence.add("ncp-calls", calls)
        assert calls, f"the client reached no contact point call for the patient (answer: {answer!r})"
        bad = [f"{c['method']} {c['path']}: PSC token {c['auth']}" for c in calls if c["auth"] != "valid"]
        assert not bad, f"calls went to the contact point without the professional's PSC token: {bad}"
        others = {c["authenticated_as"] for c in calls} - {PRACTISING.national_id}
        assert not others, f"calls carried the PSC token of someone else: {sorted(others)}"


@pytest.mark.requirement("FR-CLI-002")
@pytest.mark.capability(Capability.FOREIGN_SUMMARY_CLIENT)
@settings(max_examples=examples(4))
@given(country=st.sampled_from(traits.countries()))
def test_consent_and_identity_traits_are_sent(sut, psc, ncp, new_patient, documents, evidence, country):
    """Procedure: the professional opens the summary of a patient of `country` (the patient consented), then
    tries again for another patient of `country` who did not consent.
    Observed: the patient search parameters, the Consent posted and the order of the calls the contact point
    received; for the second patient, whether any summary was served.
    Decides FR-CLI-002 because the client must identify the patient with every trait of the country exactly as
    entered, post a Consent in force for that patient before the summary is requested, and obtain no summary
    without the patient's consent."""
    given_traits, _, ncp_id = _foreign_patient(ncp, new_patient, documents, country)
    with example_scope(evidence, "fr-cli-002-consent-traits").example(country=country):
        session = sut.login(_professional(psc))
        _open(session, country, given_traits)
        calls = _calls(ncp, given_traits, ncp_id)
        evidence.add("ncp-calls", calls)
        _blame_upstream(calls)
        searches = [c["query"] for c in calls if c["path"].endswith("/Patient")]
        assert given_traits in searches, (f"the patient search did not send the {country} traits as entered: "
                                          f"sent {searches}, entered {given_traits}")
        consents = [i for i, c in enumerate(calls) if c["method"] == "POST" and c["path"].endswith("/Consent")
                    and (c.get("body") or {}).get("status") == "active"
                    and ((c.get("body") or {}).get("patient") or {}).get("reference") == f"Patient/{ncp_id}"]
        summaries = [i for i, c in enumerate(calls) if c["path"].endswith("/$summary")]
        assert consents, "no Consent in force for the patient was sent to the contact point"
        assert summaries and min(consents) < min(summaries), (
            "the summary was requested before the patient's consent was sent" if summaries
            else "the summary was never requested after the consent was sent")
        refusing_traits, _, refusing_id = _foreign_patient(ncp, new_patient, documents, country, seed=1)
        _open(session, country, refusing_traits, consent=False)
        served = [c for c in _calls(ncp, refusing_traits, refusing_id)
                  if c["path"].endswith("/$summary") and c.get("status") == 200]
        assert not served, "the client obtained the summary of a patient who did not consent"
        evidence.note(f"{country}: traits {sorted(given_traits)} sent as entered; Consent posted before the summary; "
                      "nothing obtained without consent")


@pytest.mark.requirement("FR-CLI-003")
@pytest.mark.capability(Capability.FOREIGN_SUMMARY_CLIENT, Capability.TRANSLATED_DISPLAY)
@settings(max_examples=examples(3))
@given(country=st.sampled_from(traits.countries()), seed=st.integers(min_value=0, max_value=10_000))
def test_summary_is_shown_in_french(sut, psc, ncp, french_catalogue, new_patient, documents, evidence, country, seed):
    """Procedure: the test translation catalogue is loaded into the client; the professional opens the
    summary of a patient of `country` (the contact point serves a generated summary with one sender-local
    code no catalogue translates).
    Observed: each item the client shows (code, text, language, original text).
    Decides FR-CLI-003 because every coded item of the summary must be shown, with the catalogue's French
    display when it has one and as received otherwise, its original text still available."""
    given_traits, summary, ncp_id = _foreign_patient(ncp, new_patient, documents, country, seed=seed)
    with example_scope(evidence, "fr-cli-003-french").example(country=country, seed=seed):
        session = sut.login(_professional(psc))
        shown, answer = _open(session, country, given_traits)
        if shown is None:
            _blame_upstream(_calls(ncp, given_traits, ncp_id), given_traits=given_traits, consent=True)
            raise AssertionError(f"the client could not show the summary of a known, consenting patient: {answer!r}")
        evidence.add("displayed-summary", [i.__dict__ for i in shown.items])
        evidence.note(f"catalogue {french_catalogue}")
        for system, code, original in sorted(set(catalogue.coded_items(summary))):
            items = [i for i in shown.items if i.system == system and i.code == code]
            assert items, f"the coded item {system}|{code} ({original!r}) is not shown: dropped"
            french = catalogue.french(system, code)
            if french:
                assert any(i.shown == french for i in items), (
                    f"{system}|{code} is shown as {[i.shown for i in items]}, not in French ({french!r})")
            else:
                assert any(code in i.shown or (original and original in i.shown) for i in items), (
                    f"the untranslatable {system}|{code} is not shown as such ({[i.shown for i in items]})")
            if original:
                assert any(i.original == original for i in items), (
                    f"the original text {original!r} of {system}|{code} is not available")


SCENARIOS = {
    "no-consent": (Denied, "refused"),
    "patient-not-found": (NotFound, "not found"),
    "country-not-available": (NotSupported, "not available"),
}


@pytest.mark.requirement("FR-CLI-004")
@pytest.mark.capability(Capability.FOREIGN_SUMMARY_CLIENT)
@settings(max_examples=examples(6))
@given(scenario=st.sampled_from(sorted(SCENARIOS)), country=st.sampled_from(traits.countries()))
def test_refusals_have_clear_outcomes_and_are_logged(sut, psc, ncp, new_patient, documents, evidence, scenario,
                                                     country):
    """Procedure: the professional opens a foreign summary when the patient did not consent, when no patient
    of the country has the traits entered, or when the patient's country is not connected to the contact
    point; the client's own log is read before and after.
    Observed: the answer the client gave (Denied, NotFound, NotSupported or a summary) and the log entries
    the attempt added.
    Decides FR-CLI-004 because each situation must end with its own clear outcome (refused, not found, not
    available: never a summary, never one mistaken for another) and an entry in the client's log recording
    the failed attempt."""
    session = sut.login(_professional(psc))
    expected, wording = SCENARIOS[scenario]
    if scenario == "no-consent":
        given_traits, _, ncp_id = _foreign_patient(ncp, new_patient, documents, country)
        target, consent = country, False
    elif scenario == "patient-not-found":
        given_traits, ncp_id = traits.traits_of(new_patient(), country), None  # never registered at the NCP
        target, consent = country, True
    else:
        given_traits, ncp_id = traits.traits_of(new_patient(), country), None
        target, consent = UNAVAILABLE, True
    with example_scope(evidence, "fr-cli-004-outcomes").example(scenario=scenario, country=target):
        before = session.client_log()
        shown, answer = _open(session, target, given_traits, consent=consent)
        # the no-consent case needs the patient identified first: that takes the traits as entered
        _blame_upstream(_calls(ncp, given_traits, ncp_id),
                        given_traits=given_traits if scenario == "no-consent" else None)
        assert shown is None, f"{scenario}: the client showed a summary"
        assert isinstance(answer, expected), (
            f"{scenario}: the client answered {type(answer).__name__} ({answer.reason!r}), not a clear "
            f"'{wording}' ({expected.__name__})")
        added = auditlog.new_entries(before, session.client_log())
        evidence.add("client-log", added)
        failures = [e for e in added if str(e.get("outcome", "0")) != "0"]
        assert failures, f"{scenario}: the failed attempt left no failure entry in the client's log ({len(added)} new)"
        assert any(e.get("outcomeDesc") for e in failures), f"{scenario}: the log entry does not say what happened"
        evidence.note(f"{scenario}: {type(answer).__name__} ({answer.reason}); logged: {failures[-1]['outcomeDesc']}")
