"""The sample sets copied into tests/data/cda (see PROVENANCE.json there) and their expected outcomes."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "cda"
SETS = ("cda-core-schema", "ehdsi-cda")

#: expected-outcomes.json keys -> our schema names
SCHEMA_KEYS = {
    "xsd_normative_CDA": "cda",
    "xsd_SDTC_CDA": "cda-sdtc",
    "xsd_ehdsi_CDA_Pharma": "ehdsi",
    "xsd_epsos_legacy_CDA_extended": "epsos",
}


def expected_outcomes(set_name: str) -> list[dict]:
    return json.loads((DATA / set_name / "expected-outcomes.json").read_text("utf-8"))


def all_samples() -> list[tuple[str, dict]]:
    return [(s, e) for s in SETS for e in expected_outcomes(s)]


def sample_bytes(set_name: str, entry: dict) -> bytes:
    return (DATA / set_name / entry["file"]).read_bytes()
