"""Randomly broken IPS and BALP documents get issues, never an exception out of `validate()`.

Each mutant deletes a property, blanks or retypes a value, wraps or unwraps an array, adds an
unknown property or a `_x` extension, breaks an id or a code, or points a reference nowhere, at a
random place of a real example (seeded: the same mutants every run). The validator's fast paths
assume well-shaped JSON; this keeps the general paths honest. Before the wrong-JSON-type fixes,
about 3% of such mutants raised TypeError.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from tests.fhir.conftest import DATA, load

_EXAMPLES = sorted(p.relative_to(DATA).as_posix() for d in ("ips-2.0.0-examples", "balp-examples")
                   for p in (DATA / d).glob("*.json") if p.name != "expected-outcomes.json")
_MUTANTS_PER_EXAMPLE = 6


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    path = rng.choice(_paths(doc))
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    k, v = path[-1], parent[path[-1]]
    kind = rng.randrange(12)
    if kind == 0 or (kind == 3 and not isinstance(parent, dict)):
        del parent[k]
    elif kind == 1:
        parent[k] = "" if isinstance(v, str) else "text"
    elif kind == 2:
        parent[k] = "2021-02-30" if isinstance(v, str) else 3.5
    elif kind == 3:
        parent["bogus"] = "x"
    elif kind == 4:
        parent[k] = [v] if not isinstance(v, list) else (v[0] if v else None)
    elif kind == 5:
        parent[k] = None
    elif kind == 6:
        parent[k] = {"reference": "urn:uuid:00000000-0000-0000-0000-000000000001"}
    elif kind == 7:
        parent[k] = {}
    elif kind == 8 and isinstance(parent, dict) and isinstance(k, str) and not k.startswith("_"):
        parent["_" + k] = {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}
    elif kind == 9 and isinstance(v, dict):
        v["id"] = "bad id!"
    elif kind == 10 and isinstance(v, dict):
        v["system" if "system" in v else "code"] = {"not": "a string"}
    elif kind == 11 and isinstance(parent, list):
        parent.append(copy.deepcopy(v))
    else:
        parent[k] = [1, {"x": []}]
    return doc


@pytest.mark.parametrize("name", _EXAMPLES)
def test_mutants_of_an_example_are_validated_without_crashing(validator, name):
    original = load(name)
    rng = random.Random(name)
    for _ in range(_MUTANTS_PER_EXAMPLE):
        mutant = _mutate(original, rng)
        if rng.random() < 0.5:
            mutant = _mutate(mutant, rng)
        issues = validator.validate(mutant)  # an exception here is the failure
        assert isinstance(issues, list)


_BUNDLES = sorted(p.relative_to(DATA).as_posix()
                  for p in (DATA / "ips-2.0.0-examples").glob("Bundle-*.json"))


@pytest.mark.parametrize("name", _BUNDLES)
def test_a_resource_whose_resource_type_is_not_a_string_is_an_issue_not_a_crash(validator, name):
    """Every entry in turn gets a list as its resourceType: slicing that resolves references to it
    (Bundle entry slices, Composition sections) once raised TypeError (unhashable list)."""
    bundle = load(name)
    for index, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        broken = copy.deepcopy(bundle)
        broken["entry"][index]["resource"]["resourceType"] = [resource["resourceType"]]
        issues = validator.validate(broken)
        assert any(i.severity in ("error", "fatal") for i in issues), (name, index)
