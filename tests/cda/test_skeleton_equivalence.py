"""Why our Schematron compiler may be trusted: on every eHDSI sample that has a Schematron
(30 documents, ~6000 findings), it reports exactly the findings of the ISO skeleton (lxml's
XSLT 1 chain run by Saxon): same kind (failed assert / successful report), same node, same text."""

from __future__ import annotations

import pytest

from conformance.cda import choose_schematrons, compiled_schematron, parse_untrusted, saxon
from conformance.cda.catalog import SCHEMATRONS
from conformance.cda.paths import element_at_positions, element_path
from conformance.cda.skeleton import compile_with_skeleton, run_skeleton

from .samples import expected_outcomes, sample_bytes


@pytest.fixture(scope="module")
def skeletons():
    return {name: compile_with_skeleton(spec.file) for name, spec in SCHEMATRONS.items()}


def _ours(name: str, tree) -> set[tuple[str, str, str]]:
    compiled = compiled_schematron(name, include_success=True)  # the skeleton reports successes too
    found = set()
    for raw in saxon.run(compiled, tree):
        positions, _, attr = raw.positions.partition("/@")
        el = element_at_positions(tree, positions) if positions else None
        where = (element_path(el) + (f"/@{attr}" if attr else "")) if el is not None else "/"
        found.add((compiled.asserts[raw.index].kind, where, raw.message))
    return found


DOCS = [e for e in expected_outcomes("ehdsi-cda")]


def test_same_findings_as_the_iso_skeleton_on_every_ehdsi_sample(skeletons):
    compared = findings = 0
    for entry in DOCS:
        tree = parse_untrusted(sample_bytes("ehdsi-cda", entry))
        for name in choose_schematrons(tree):
            reference = {(f.kind, f.location, f.text) for f in run_skeleton(skeletons[name], tree)}
            ours = _ours(name, tree)
            assert ours == reference, (
                f"{entry['file']} / {name}: only skeleton {sorted(reference - ours)[:3]}, "
                f"only ours {sorted(ours - reference)[:3]}")
            compared += 1
            findings += len(reference)
    assert compared == 30 and findings > 5000
