"""The reference client against the harness's mock PSC and mock national contact point, directly."""

from __future__ import annotations

import pytest

from conformance.adapter import Actor, ActorKind, Denied, NotFound, NotSupported
from conformance.adapters.reference_client import create
from conformance.documents import new_patient_identity, valid_document
from ehds_support.fr import catalogue, traits
from ehds_support.fr.ncp import MockNcp
from ehds_support.fr.psc import PRACTISING, MockPsc


@pytest.fixture
def world():
    psc = MockPsc().start()
    ncp = MockNcp(psc, traits.table()).start()
    client = create()
    client.use_contact_point(ncp.base_url, psc.issuer)
    client.load_terminology(catalogue.resources())
    try:
        yield psc, ncp, client
    finally:
        ncp.stop()
        psc.stop()


def test_opens_a_foreign_summary_in_french_and_logs_outcomes(world) -> None:
    psc, ncp, client = world
    patient = new_patient_identity(3, namespace="client-unit")
    given = traits.traits_of(patient, "PT")
    ncp.add_patient("PT", given, valid_document("patient-summary", patient))
    session = client.login(Actor(ActorKind.HEALTH_PROFESSIONAL, credentials=psc.login_credentials(PRACTISING)))
    shown = session.open_foreign_summary("PT", given)
    assert shown.items and all(i.language == "fr-FR" for i in shown.items)
    assert all(c["auth"] == "valid" for c in ncp.calls)
    assert [c["path"].rsplit("/", 1)[-1] for c in ncp.calls] == ["Patient", "Consent", "$summary"]
    with pytest.raises(Denied):
        session.open_foreign_summary("PT", given, consent=False)
    with pytest.raises(NotFound):
        session.open_foreign_summary("PT", {**given, "birth_date": "1900-01-01"})
    with pytest.raises(NotSupported):
        session.open_foreign_summary("IS", given)
    assert [e["outcome"] for e in session.client_log()] == ["0", "4", "4", "4"]


def test_nobody_signed_in_calls_nothing(world) -> None:
    _, ncp, client = world
    session = client.login(client.test_accounts().hp)
    with pytest.raises(Denied):
        session.open_foreign_summary("PT", {"national_id": "1", "birth_date": "2000-01-01"})
    assert ncp.calls == []
    with pytest.raises(Denied):
        client.login(Actor(ActorKind.ANONYMOUS))
