"""Read reports written under an older report schema (1.0.0) as the current one.

Why: CI compares a new run with a stored baseline (`conformance report diff baseline/ new/`), and
the baseline was often written by the previous harness version. Schema 2.0.0 changed the
conclusion (one of conformant / non-conformant / incomplete / partial, computed by
`conformance.conclusion`) and what an attestation records; refusing every older baseline would
break every pipeline once. The upgrade only adds what 2.0.0 needs: the conclusion is computed
again from the rows by today's rule, and what 1.0.0 did not record is said to be not recorded.
"""

from __future__ import annotations

import copy
from typing import Any

NOT_RECORDED = "not recorded (report schema 1.0.0)"


def _attestation(entry: dict[str, Any]) -> dict[str, Any]:
    out = dict(entry)
    out.setdefault("role", NOT_RECORDED)
    evidence = out.get("evidence")
    out["evidence"] = {"reference": evidence} if isinstance(evidence, str) and evidence else (
        evidence if isinstance(evidence, dict) and evidence else {"reference": NOT_RECORDED})
    return out


def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` in the current schema; a document already current (or unknown) is returned as it is."""
    if not isinstance(doc, dict) or doc.get("schema_version") != "1.0.0":
        return doc
    from conformance.report.build import ORDER, SCHEMA_ID, SCHEMA_VERSION, conclude_document

    out = copy.deepcopy(doc)
    out["schema"], out["schema_version"] = SCHEMA_ID, SCHEMA_VERSION
    if isinstance(out.get("run"), dict):
        out["run"].setdefault("selection", {})
        out["run"].setdefault("strict", False)
    out.setdefault("scope", {})
    if isinstance(out.get("attestations"), dict):
        out["attestations"]["items"] = [_attestation(a) for a in out["attestations"].get("items", [])]
    for row in out.get("requirements", []):
        if "attestations" in row:
            row["attestations"] = [_attestation(a) for a in row["attestations"]]
    try:
        conclude_document(out)
    except (KeyError, TypeError):
        return out  # malformed: the schema check names the problem
    ordered = {k: out[k] for k in ORDER if k in out}
    ordered.update({k: v for k, v in out.items() if k not in ordered})
    return ordered
