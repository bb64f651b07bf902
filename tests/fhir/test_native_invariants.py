"""Guarded native invariants give fhirpathpy's answer wherever they answer at all.

The validator evaluates the invariants found on every Timing, Duration, Organization, Condition,
Observation and IPS Bundle in Python (`native.GUARDED`) and hands odd shapes to fhirpathpy. Here
each function meets the cross product of ordinary and odd values of the fields its expression
reads (absent, null, wrong JSON types, lists where one value is expected, `_field` extensions);
wherever it returns a verdict, fhirpathpy must agree, and must not fail on that node (a failing
engine is reported as "not evaluated", which a native verdict would hide).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from conformance.fhir.invariants import EvalError, FhirPath
from conformance.fhir.native import GUARDED
from conformance.fhir.structure import Constraint

_ABSENT = object()
_ODD: list[Any] = [_ABSENT, None, "", "x", 0, 1, -1, 1.5, -0.5, True, [], {}, [{}], ["x"], [1]]
_CODING_VS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


class _Ctx:
    """The bit of a validator run the natives look at: the stack of resources being walked."""

    def __init__(self, node: Any) -> None:
        self.resources = [(node, "")]


def _variants(fields: dict[str, list[Any]], base: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out = []
    names = list(fields)
    for combo in itertools.product(*(fields[n] for n in names)):
        node = dict(base or {})
        for n, v in zip(names, combo):
            if v is not _ABSENT:
                node[n] = v
        out.append(node)
    return out


def _cases() -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """key -> (FHIRPath type of the focus node, nodes)."""
    when = [_ABSENT, ["C"], ["MORN"], ["CM", "C"], [], "C", [1], None]
    coded = [_ABSENT, {}, {"coding": []}, {"coding": [{"system": _CODING_VS, "code": "entered-in-error"}]},
             {"coding": [{"system": _CODING_VS, "code": "confirmed"}]}, {"coding": [{"code": "entered-in-error"}]},
             {"coding": [{"system": _CODING_VS, "code": "entered-in-error", "_code": {"id": "x"}}]},
             {"coding": {"code": "x"}}, {"coding": [{"system": 1, "code": "entered-in-error"}]}, "x", None, []]
    category = [_ABSENT, [], [{}], [{"coding": [{"code": "problem-list-item"}]}], ["problem-list-item"], {}, None]
    coding = {"system": "http://loinc.org", "code": "8480-6"}
    obs_code = [_ABSENT, {}, {"coding": [coding]}, {"coding": [dict(coding, code="1")]}, {"coding": []}, "x"]
    components = [_ABSENT, [], [{}], [{"code": {"coding": [coding]}}], [{"code": {}}], [{"code": "x"}], {"code": {}},
                  [{"code": {"coding": "x"}}], None, [{"code": {"coding": [dict(coding, display="x")]}}],
                  [{"code": {"coding": [dict(coding, code="1")]}}, {"code": {"coding": [{}, coding]}}]]
    composition = {"resource": {"resourceType": "Composition"}}
    entries = [_ABSENT, [], [composition], [composition, composition], [composition, {"fullUrl": "x"}],
               [composition, {"resource": {}}], [composition, {"resource": {"resourceType": "Patient"}}],
               [composition, "x"], [composition, {"resource": "x"}], {"resource": {}}, None]
    return {
        "tim-9": ("Timing.repeat", _variants({"offset": _ODD, "when": when}) + [{"_offset": {"id": "a"}},
                                                                               {"offset": 1, "_when": [{"id": "a"}]}]),
        "tim-4": ("Timing.repeat", _variants({"duration": _ODD}) + [{"_duration": {"id": "a"}, "duration": 1}]),
        "tim-5": ("Timing.repeat", _variants({"period": _ODD}) + [{"_period": {"id": "a"}, "period": 1}]),
        "drt-1": ("Duration", _variants({"code": [_ABSENT, "d", 1, None], "system": [
            _ABSENT, "http://unitsofmeasure.org", "x", 5, None], "value": [_ABSENT, 1, 0, "1", None, True]})
            + [{"_code": {"id": "a"}}, {"code": "d", "_system": {"id": "a"}, "value": 1}]),
        "org-1": ("Organization", _variants({"identifier": [_ABSENT, [], [{}], [{"value": "1"}], {}, ["x"], None],
                                             "name": [_ABSENT, "x", "", None, 1, ["x"]]},
                                            {"resourceType": "Organization"})
                  + [{"resourceType": "Organization", "_name": {"id": "a"}}]),
        "bdl-ips-1": ("Bundle", _variants({"entry": entries}, {"resourceType": "Bundle"})),
        "con-3": ("Condition", _variants({"clinicalStatus": [_ABSENT, {}, {"text": "a"}, "x", None],
                                          "verificationStatus": coded, "category": category},
                                         {"resourceType": "Condition"})),
        "obs-7": ("Observation", _variants({"valueString": [_ABSENT, "x", 5], "valueQuantity": [_ABSENT, "x", {}],
                                            "code": obs_code, "component": components},
                                           {"resourceType": "Observation"})
                  + [{"resourceType": "Observation", "_valueString": {"id": "a"}, "component": [{}]}]),
    }


def _by_key() -> dict[str, tuple[str, str]]:
    return {key: (key, expression) for key, expression in GUARDED}


@pytest.mark.parametrize("key", sorted(_by_key()))
def test_guarded_native_agrees_with_fhirpathpy(key: str) -> None:
    fp = FhirPath()
    _k, expression = _by_key()[key]
    fn = GUARDED[(key, expression)]
    type_path, nodes = _cases()[key]
    constraint = Constraint(key, "error", "", expression, "")
    decided = 0
    for node in nodes:
        ours = fn(node, _Ctx(node))
        if ours is None:
            continue
        decided += 1
        try:
            theirs = fp.check(constraint, node, type_path, node, node)
        except EvalError as exc:
            pytest.fail(f"{key} on {node!r}: native says {ours}, but fhirpathpy cannot evaluate it ({exc})")
        assert ours == theirs, f"{key} on {node!r}: native {ours}, fhirpathpy {theirs}"
    # the native function must actually decide the ordinary shapes (else it is dead weight)
    assert decided >= max(1, len(nodes) // 8), f"{key}: decided only {decided} of {len(nodes)} nodes"


def test_every_guarded_native_is_exercised() -> None:
    assert set(_by_key()) == set(_cases())
