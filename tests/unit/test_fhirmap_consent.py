"""The patient's consent to an access for a purpose as a FHIR Consent (conformance.fhirmap), both ways:
the one mapping the `fhir` adapter and the reference server share."""

from __future__ import annotations

import pytest

from conformance import fhirmap
from conformance.adapter import Consent, ConsentRecord, Restriction

HP = "urn:oid:1.2.250.1.71.4.2.1|810000000001"


@pytest.mark.parametrize("record", [
    ConsentRecord("consent-1", "pat-1", Consent("cross-border-care", HP), HP, "2026-01-01T10:00:00+01:00"),
    ConsentRecord("consent-2", "pat-2", Consent("cross-border-care"), "urn:oid:1.2.250.1.213.1.4.10|2",
                  "2026-01-02T08:30:00Z", active=False),
    ConsentRecord("consent-3", "pat-3", Consent("research", "42"), "42", "2026-01-03T00:00:00Z"),
])
def test_a_recorded_consent_round_trips(record: ConsentRecord) -> None:
    resource = fhirmap.access_consent(record)
    assert resource["id"] == record.consent_id and resource["patient"] == {"reference": f"Patient/{record.patient_id}"}
    assert resource["status"] == ("active" if record.active else "inactive")
    assert resource["provision"]["purpose"] == [{"system": fhirmap.PURPOSE_SYSTEM, "code": record.consent.purpose}]
    assert ("actor" in resource["provision"]) is bool(record.consent.grantee)
    assert fhirmap.is_access_consent(resource)
    assert fhirmap.consent_record(resource) == record


def test_the_request_carries_no_who_or_when_and_reads_back_as_the_wanted_consent() -> None:
    body = fhirmap.access_consent_request("pat-1", Consent("cross-border-care", HP))
    assert "id" not in body and "performer" not in body and "dateTime" not in body and body["status"] == "active"
    back = fhirmap.consent_record(body)
    assert (back.patient_id, back.consent, back.active) == ("pat-1", Consent("cross-border-care", HP), True)
    assert (back.consent_id, back.recorded_by, back.recorded) == ("", "", "")


def test_a_restriction_is_not_an_access_consent() -> None:
    restriction = fhirmap.consent("pat-1", Restriction(categories=frozenset({"laboratory"})))
    assert not fhirmap.is_access_consent(restriction)
    assert not fhirmap.is_access_consent({"resourceType": "Consent", "provision": []})
    assert not fhirmap.is_access_consent(None)


def _body(**changes):
    body = fhirmap.access_consent_request("pat-1", Consent("cross-border-care", HP))
    for key, value in changes.items():
        if key.startswith("provision_"):
            body["provision"][key.removeprefix("provision_")] = value
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(("body", "where", "hint"), [
    ({"resourceType": "Patient"}, "Consent:", "FHIR Consent"),
    (_body(patient={"reference": "Group/1"}), "Consent.patient", "Patient/<id>"),
    (_body(status="draft"), "Consent.status", "'inactive'"),
    (_body(provision="permit"), "Consent.provision", "JSON object"),
    (_body(provision_type="deny"), "Consent.provision.type", "'permit'"),
    (_body(provision_purpose=[]), "Consent.provision.purpose", "exactly one purpose"),
    (_body(provision_purpose=[{"code": "a"}, {"code": "b"}]), "Consent.provision.purpose", "exactly one purpose"),
    (_body(provision_purpose={"code": "a"}), "Consent.provision.purpose", "JSON array"),
    (_body(provision_purpose=[{"code": " "}]), "Consent.provision.purpose", "exactly one purpose"),
    (_body(provision_actor=[{"reference": {"identifier": {"value": "1"}}}]), "Consent.provision.actor[0].role",
     "IRCP"),
    (_body(provision_actor=[{"role": {"coding": [{"code": "IRCP"}]}, "reference": {"reference": "Practitioner/1"}}]),
     "Consent.provision.actor[0].reference.identifier", "business identifier"),
    (_body(provision_actor=[{"role": {"coding": [{"code": "IRCP"}]}, "reference": {"identifier": {"value": v}}}
                            for v in ("1", "2")]), "Consent.provision.actor", "at most one professional"),
])
def test_an_unusable_consent_is_refused_naming_the_element_and_the_fix(body, where, hint) -> None:
    with pytest.raises(fhirmap.ConsentError) as caught:
        fhirmap.consent_record(body)
    assert str(caught.value).startswith(where) and hint in str(caught.value), str(caught.value)
