"""semantics.lost_meaning: re-serialisation is not a loss; changed codes, dates, quantities,
identifiers, references and narrative are."""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from conformance.documents import new_patient_identity, resources, valid_document
from conformance.strategies.semantics import lost_meaning, narrative_text


def _reidentify(bundle: dict) -> dict:
    """Same document, new resource ids and fullUrls (what a server may do), other key order."""
    text = json.dumps(bundle)
    for entry in bundle["entry"]:
        old = entry["fullUrl"].removeprefix("urn:uuid:")
        text = text.replace(old, str(uuid.uuid5(uuid.NAMESPACE_OID, old)))
    out = json.loads(text)
    # ids are not meaning: the Composition identifier embeds a uuid; keep it as sent
    out["entry"][0]["resource"]["identifier"] = bundle["entry"][0]["resource"]["identifier"]
    out["entry"] = [dict(reversed(list(e.items()))) for e in out["entry"]]
    return out


@pytest.fixture
def lab() -> dict:
    return valid_document("laboratory", new_patient_identity(5, namespace="sem"), seed=5)


def test_identical_and_reidentified_documents_keep_meaning(lab: dict) -> None:
    assert lost_meaning(lab, copy.deepcopy(lab)) == []
    same = _reidentify(lab)
    assert same != lab
    assert [loss.describe() for loss in lost_meaning(lab, same)] == []


def test_equivalent_values_are_equal(lab: dict) -> None:
    changed = copy.deepcopy(lab)
    obs = resources(changed, "Observation")[0]
    obs["valueQuantity"]["value"] = float(obs["valueQuantity"]["value"])  # 13 vs 13.0
    obs["effectiveDateTime"] = obs["effectiveDateTime"].replace("T08:00:00+01:00", "T07:00:00Z")
    assert lost_meaning(lab, changed) == []


@pytest.mark.parametrize("change, expected", [
    (lambda b: resources(b, "Observation")[0]["code"]["coding"][0].update(code="0000-0"), "code.coding.code"),
    (lambda b: resources(b, "Observation")[0].update(effectiveDateTime="1999-01-01T00:00:00Z"), "effectiveDateTime"),
    (lambda b: resources(b, "Observation")[0]["valueQuantity"].update(value=999.9), "valueQuantity.value"),
    (lambda b: resources(b, "Observation")[0]["valueQuantity"].update(code="g/L"), "valueQuantity.code"),
    (lambda b: resources(b, "Patient")[0]["identifier"][0].update(value="other"), "identifier.value"),
    (lambda b: resources(b, "DiagnosticReport")[0]["subject"].update(reference=b["entry"][2]["fullUrl"]),
     "subject.reference"),
    (lambda b: b["entry"][0]["resource"]["section"][0]["text"].update(
        div='<div xmlns="http://www.w3.org/1999/xhtml">changed</div>'), "section.text.div"),
])
def test_changes_are_losses(lab: dict, change, expected: str) -> None:
    changed = copy.deepcopy(lab)
    change(changed)
    losses = lost_meaning(lab, changed)
    assert losses and any(path.endswith(expected) for loss in losses for path, _ in loss.missing), \
        [loss.describe() for loss in losses]


def test_dropped_resource_is_a_loss(lab: dict) -> None:
    changed = copy.deepcopy(lab)
    changed["entry"] = [e for e in changed["entry"] if e["resource"]["resourceType"] != "DiagnosticReport"]
    assert any(loss.resource.startswith("DiagnosticReport") for loss in lost_meaning(lab, changed))


def test_narrative_text() -> None:
    assert narrative_text('<div xmlns="x"><p>a &amp;  b</p>\n<p>c</p></div>') == "a & b c"
