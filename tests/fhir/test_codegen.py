"""The walkers `codegen` generates per (container, shape) report exactly what the interpreted loop of
`Run._object` reports: the same issues in the same order, on real documents and on broken ones.

Two validators over the same packages walk the same inputs, one generating a walker for every kept shape at its
first object (`COMPILE_AFTER = 1`), the other never (every object interpreted). benchmarks/identity.py checks the
same on ~4,000 inputs, with the default threshold.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from conformance.fhir import Validator, codegen, plan
from tests.fhir.conftest import DATA, load

_INPUTS = sorted(p.relative_to(DATA).as_posix() for d in ("ips-2.0.0-examples", "balp-examples")
                 for p in (DATA / d).glob("*.json")) + ["ips-connectathon/" + p.name for p in sorted(
                     (DATA / "ips-connectathon").glob("*.json"))[:3]]


def test_the_generated_modes_are_the_plan_modes() -> None:
    assert (codegen._ARRAY, codegen._SINGLE) == (plan.ARRAY, plan.SINGLE)
    assert (codegen._PRIMITIVE, codegen._COMPLEX) == (plan.PRIMITIVE, plan.COMPLEX)


def _broken(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """doc with one property deleted or given another JSON type, somewhere at random."""
    doc = copy.deepcopy(doc)
    node: Any = doc
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            return doc
        k = rng.choice(keys)
        child = node[k]
        if isinstance(child, (dict, list)) and child and rng.random() < 0.8:
            node = child
            continue
        if isinstance(node, dict) and rng.random() < 0.5:
            del node[k]
        else:
            node[k] = rng.choice([[child], "x", 1, {"x": child}, None, True])
        return doc


def _issues(v: Validator, docs: list[dict[str, Any]], compile_after: int,
            monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[Any, ...]]]:
    monkeypatch.setattr(codegen, "COMPILE_AFTER", compile_after)
    return [[(i.severity, i.code, i.location, i.message, i.rule, i.source) for i in v.validate(d)] for d in docs]


def test_generated_walkers_report_what_the_interpreted_walk_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    docs = []
    for rel in _INPUTS:
        doc = load(rel)
        docs.append(doc)
        docs += [_broken(doc, rng) for _ in range(5)]
    interpreted = _issues(Validator(), docs, 10**9, monkeypatch)
    generated_validator = Validator()
    generated = _issues(generated_validator, docs, 1, monkeypatch)
    assert generated == interpreted
    assert sum(1 for c in _containers(generated_validator) for s in c.shapes.values()
               if s[6] is not None and not isinstance(s[6], codegen.Pending)) > 100  # the walkers did run
    assert any(errors for errors in generated)


def _containers(v: Validator) -> list[Any]:
    return [e._layout for cs in v._structures.values() if cs is not None for e in cs.by_id.values()
            if e._layout is not None] + [cs.root._layout for cs in v._structures.values()
                                         if cs is not None and cs.root._layout is not None]
