"""A listing that names no custodian does not pass EHDS-INT-003: the contract's ``custodian`` defaults to
None so older adapters still load, and None is judged like a wrong custodian, never as a pass."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from pathlib import Path

from conformance.adapter import DocumentInfo
from conformance.adapters.reference.service import Principal, ReferenceEHR
from conformance.cli import main
from tests.mutants._factory import mutant_factory


class ListingWithoutCustodian(ReferenceEHR):
    """An EHR (or an adapter written before the field) that reports no custodian in its listing."""

    def list_documents(self, principal: Principal, patient_id: str, category: str | None = None, *,
                       emergency_purpose: str | None = None) -> list[DocumentInfo]:
        infos = super().list_documents(principal, patient_id, category, emergency_purpose=emergency_purpose)
        return [dataclasses.replace(i, custodian=None) for i in infos]


create = mutant_factory(ListingWithoutCustodian, "listing_without_custodian")

DISCOVERY = "test_documents_are_discoverable_by_patient_and_type or test_discovery_lists_exactly"


def test_a_listing_without_custodian_fails_discovery_in_both_checks(tmp_path: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["run", "--adapter", f"{__name__}:create", "-k", DISCOVERY, "--report-dir", str(tmp_path),
                     "--run-id", "run"])
    assert code == 1, out.getvalue()[-3000:]
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    row = next(r for r in report["requirements"] if r["id"] == "EHDS-INT-003")
    assert row["verdict"] == "fail", row
    failed = {c["name"].rsplit("::", 1)[-1].split("[")[0]: c["message"] for c in row["checks"] if c["verdict"] == "fail"}
    assert set(failed) == {"test_documents_are_discoverable_by_patient_and_type",
                           "test_discovery_lists_exactly_the_visible_documents_in_any_sequence"}, failed
    assert all("names no custodian" in m for m in failed.values()), failed
    others = [r["id"] for r in report["requirements"] if r["verdict"] in ("fail", "error") and r["id"] != "EHDS-INT-003"]
    assert not others, others
