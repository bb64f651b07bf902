"""The reference EHR's French rules on their own: consent, French display, identity traits, PSC login.
(The consent's FHIR mapping is conformance.fhirmap's: tests/unit/test_fhirmap_consent.py.)"""

from __future__ import annotations

import pytest

from conformance.adapter import ActorKind, Consent, Denied, NotFound, NotSupported, Rejected
from conformance.documents import new_patient_identity, valid_document
from ehds_support.fr import CROSS_BORDER_PURPOSE, catalogue, traits
from ehds_support.fr.psc import DEFECTS, NO_FRENCH_PRACTICE, PRACTISING, MockPsc
from tests.sesali.conftest import login


def _summary(ehr, hp, seed: int = 0):
    patient = new_patient_identity(seed, namespace="sesali-unit")
    return patient, ehr.submit(hp, valid_document("patient-summary", patient, seed=seed))


def test_consent_cycle_and_log(ehr) -> None:
    hp = login(ehr, "hp")
    _, receipt = _summary(ehr, hp)
    with pytest.raises(Denied):
        ehr.fetch_for_purpose(hp, receipt.patient_id, "patient-summary", CROSS_BORDER_PURPOSE)
    record = ehr.record_consent(hp, receipt.patient_id, Consent(CROSS_BORDER_PURPOSE, hp.identifier))
    assert record.active and record.recorded_by == hp.identifier
    assert ehr.fetch_for_purpose(hp, receipt.patient_id, "patient-summary", CROSS_BORDER_PURPOSE)["type"] == "document"
    with pytest.raises(Denied):  # another professional is not covered
        ehr.fetch_for_purpose(login(ehr, "hp_other"), receipt.patient_id, "patient-summary", CROSS_BORDER_PURPOSE)
    ehr.withdraw_consent(hp, receipt.patient_id, record.consent_id)
    with pytest.raises(Denied):
        ehr.fetch_for_purpose(hp, receipt.patient_id, "patient-summary", CROSS_BORDER_PURPOSE)
    log = ehr.access_log(login(ehr, "auditor"), receipt.patient_id)
    assert [e["outcome"] for e in log if e.get("purposeOfEvent")] == ["4", "0", "4", "4"]
    assert any(f"Consent/{record.consent_id}" in str(e) for e in log if e["outcome"] == "0")
    with pytest.raises(Rejected):
        ehr.record_consent(hp, receipt.patient_id, Consent("  "))


def test_catalogue_is_tagged_test_data_and_covers_the_generated_clinical_codes() -> None:
    for resource in catalogue.resources():
        assert {"code": "HTEST"}.items() <= resource["meta"]["tag"][0].items()
        assert resource["experimental"] is True
    codes = {(s, c) for seed in range(20) for s, c, _ in
             catalogue.coded_items(valid_document("patient-summary", new_patient_identity(seed), seed=seed))}
    missing = sorted(sc for sc in codes if catalogue.french(*sc) is None)
    assert not missing, f"generated codes without a French designation in the test catalogue: {missing}"


def test_display_translates_keeps_original_and_shows_unknown_codes(ehr) -> None:
    hp = login(ehr, "hp")
    ehr.load_terminology(catalogue.resources())
    _, receipt = _summary(ehr, hp)
    shown = ehr.displayed_summary(hp, receipt.patient_id)
    assert shown.items and all(i.language == "fr-FR" and i.original for i in shown.items)
    assert ehr.displayed_item("urn:x", "X1", "Something", "fr-FR").shown == "Something"
    with pytest.raises(Rejected):
        ehr.load_terminology([{"resourceType": "Patient"}])


def test_traits_lookup(ehr) -> None:
    hp = login(ehr, "hp")
    ehr.configure_identity_traits(traits.table())
    patient = new_patient_identity(7, namespace="sesali-unit")
    receipt = ehr.submit(hp, traits.with_identifiers(valid_document("patient-summary", patient), patient, "BE"))
    full = traits.traits_of(patient, "BE")
    assert ehr.find_patient_by_traits(hp, "BE", full) == receipt.patient_id
    with pytest.raises(NotFound):
        ehr.find_patient_by_traits(hp, "BE", {**full, "national_id": full["national_id"][:-1]})
    with pytest.raises(NotFound):
        ehr.find_patient_by_traits(hp, "BE", {"national_id": full["national_id"]})
    with pytest.raises(NotSupported):
        ehr.find_patient_by_traits(hp, "XX", full)


def test_psc_login(ehr) -> None:
    mock = MockPsc().start()
    try:
        ehr.trust_identity_provider(mock.issuer, mock.audience)
        principal = ehr.authenticate(ActorKind.HEALTH_PROFESSIONAL, "", mock.issue(PRACTISING))
        assert principal.identifier.endswith("|" + PRACTISING.national_id)
        assert principal.organisation is not None
        for defect in DEFECTS:
            with pytest.raises(Denied):
                ehr.authenticate(ActorKind.HEALTH_PROFESSIONAL, "", mock.issue(PRACTISING, defect=defect))
        with pytest.raises(Denied):
            ehr.authenticate(ActorKind.HEALTH_PROFESSIONAL, "", mock.issue(NO_FRENCH_PRACTICE))
    finally:
        mock.stop()
