"""The oracle: who may see what, and what each operation's log entry must hold, one requirement at a time."""

from __future__ import annotations

import datetime as dt

from conformance.documents import new_patient_identity
from ehds_support.model import Doc, ExpectedEntry, Model, Patient, blank, entry_problems

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _model() -> Model:
    model = Model()
    identity = new_patient_identity(1, namespace="M")
    model.add_patient(Patient("P1", identity, [identity.identifier], "pat-1"))
    for i, cat in enumerate(["laboratory", "discharge", "laboratory"]):
        model.add_document(Doc(f"d{i}", "P1", cat, f"urn:ietf:rfc:3986|k{i}", frozenset({f"ORG{i}"})))
    return model


def test_restriction_replaces_and_covers_later_documents() -> None:
    model = _model()
    model.restrict("P1", frozenset({"d1"}), frozenset({"laboratory"}))
    assert [d.id for d in model.visible_to_professional("P1")] == []
    model.add_document(Doc("d3", "P1", "laboratory", "k3", frozenset()))
    assert model.is_withheld(model.docs["d3"])
    model.restrict("P1", frozenset(), frozenset())
    assert [d.id for d in model.visible_to_professional("P1")] == ["d0", "d1", "d2", "d3"]
    assert model.patients["P1"].ever_restricted == {"d0", "d1", "d2"}
    assert model.latest_visible("P1", "laboratory").id == "d3"


def test_latest_is_the_newest_document_date_then_the_later_received() -> None:
    model = _model()
    for doc_id, date in (("d3", "2025-06-01T10:30:00+01:00"), ("d4", "2024-01-01T10:30:00+01:00")):
        model.add_document(Doc(doc_id, "P1", "discharge", f"k-{doc_id}", frozenset(), date))
    assert model.latest_visible("P1", "discharge").id == "d3"  # d4 came later but is older
    model.add_document(Doc("d5", "P1", "discharge", "k-d5", frozenset(), "2025-06-01T09:30:00Z"))
    assert model.latest_visible("P1", "discharge").id == "d5"  # the same instant as d3: the later received
    model.restrict("P1", frozenset({"d5", "d3"}), frozenset())
    assert model.latest_visible("P1", "discharge").id == "d4"
    assert model.latest_visible("P1", "discharge", emergency=True).id == "d5"


def test_blank_purposes() -> None:
    assert all(blank(p) for p in ("", " ", "\u00a0", "\u2003 \u3000", "\r\n\t"))
    assert not blank(" urgence vitale ")


def _entry(**over: object) -> dict:
    entry = {
        "resourceType": "AuditEvent", "id": "e1", "recorded": NOW.isoformat(), "outcome": "0",
        "agent": [{"type": {"coding": [{"code": "PROV"}]}, "who": {"identifier": {"value": "org"}}},
                  {"requestor": True, "who": {"identifier": {"value": "alice"}}}],
        "entity": [{"type": {"code": "1"}, "role": {"code": "1"}, "what": {"reference": "Patient/pat-1"}},
                   {"what": {"identifier": {"value": "ORG0"}}, "detail": [
                       {"type": "ehds-priority-category", "valueString": "laboratory"}]}],
    }
    entry.update(over)
    return entry


WANT = ExpectedEntry("fetch", "pat-1", frozenset({"s|v"}), person="h|alice", organisation="o|org",
                     categories=frozenset({"laboratory"}), origins=frozenset({"ORG0"}), started=NOW, finished=NOW)


def test_a_complete_entry_has_no_problem() -> None:
    assert entry_problems([_entry()], WANT) == {}


def test_each_missing_element_is_blamed_on_its_own_requirement() -> None:
    assert set(entry_problems([], WANT)) == {"EHDS-LOG-001"}
    assert set(entry_problems([_entry(agent=[])], WANT)) == {"EHDS-LOG-002", "EHDS-LOG-003"}
    assert set(entry_problems([_entry(recorded="2026-01-02T03:04:05")], WANT)) == {"EHDS-LOG-005"}
    assert set(entry_problems([_entry(purposeOfEvent=[{"coding": [{"code": "BTG"}]}])], WANT)) == {"EHDS-LOG-012"}
    assert set(entry_problems([_entry(contained=[{"resourceType": "Bundle"}])], WANT)) == {"EHDS-LOG-014"}


def test_refusals_and_emergencies() -> None:
    refused = ExpectedEntry("pry", "pat-1", frozenset(), person="h|alice", refused=True, started=NOW, finished=NOW)
    assert set(entry_problems([], refused)) == {"EHDS-LOG-013"}
    assert set(entry_problems([_entry()], refused)) == {"EHDS-LOG-013"}
    emergency = ExpectedEntry("fetch", "pat-1", frozenset(), emergency="Unconscious  patient", started=NOW,
                              finished=NOW)
    stated = _entry(purposeOfEvent=[{"coding": [{"code": "BTG"}], "text": "unconscious patient"}])
    assert entry_problems([stated], emergency) == {}
    code_only = _entry(purposeOfEvent=[{"coding": [{"code": "BTG"}]}])
    assert set(entry_problems([code_only], emergency)) == {"EHDS-LOG-012"}
