"""report diff: the changed requirements, and which of them gate CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.model import Verdict
from conformance.report import build_report
from conformance.report.diff import diff_reports, gating
from tests.report.samples import make_run


def doc(changes=None, run_id="r"):
    return build_report(make_run(run_id, changes=changes))


def test_same_report_has_no_change() -> None:
    assert diff_reports(doc(), doc()) == []


def test_mutant_shows_exactly_its_requirement_as_regression() -> None:
    changes = diff_reports(doc(), doc({"EHDS-LOG-001": Verdict.FAIL}))
    assert [(c.id, c.old, c.new, c.kind) for c in changes] == [("EHDS-LOG-001", "pass", "fail", "regression")]
    assert [c.id for c in gating(changes, "shall", "regression")] == ["EHDS-LOG-001"]


def test_pass_to_error_is_a_regression() -> None:
    changes = diff_reports(doc(), doc({"EHDS-SEC-004": Verdict.ERROR}))
    assert [(c.id, c.kind) for c in changes] == [("EHDS-SEC-004", "regression")]


def test_improvements_and_other_changes_do_not_gate() -> None:
    new = doc({"EHDS-LOG-002": Verdict.PASS, "EHDS-INT-001": Verdict.FAIL, "EHDS-GEN-001": Verdict.PASS})
    changes = {c.id: c.kind for c in diff_reports(doc(), new)}
    assert changes == {"EHDS-LOG-002": "improvement", "EHDS-INT-001": "changed", "EHDS-GEN-001": "changed"}
    assert gating(diff_reports(doc(), new), "all", "regression") == []


def test_lost_coverage_is_listed_not_gated_as_regression() -> None:
    new = doc({"EHDS-SEC-001": Verdict.NOT_TESTED})
    changes = diff_reports(doc(), new)
    assert [(c.id, c.kind) for c in changes] == [("EHDS-SEC-001", "coverage-lost")]
    assert gating(changes, "shall", "regression") == []
    assert [c.id for c in gating(changes, "shall", "change")] == ["EHDS-SEC-001"]


@pytest.mark.parametrize(("policy", "gated"), [("shall", False), ("should", True), ("all", True)])
def test_policy_decides_which_levels_gate(policy: str, gated: bool) -> None:
    old = doc({"EHDS-LOG-007": Verdict.PASS})  # a SHOULD requirement
    new = doc({"EHDS-LOG-007": Verdict.FAIL})
    changes = diff_reports(old, new)
    assert [c.kind for c in changes] == ["regression"]
    assert bool(gating(changes, policy, "regression")) is gated


def test_may_gates_only_with_policy_all() -> None:
    changes = diff_reports(doc({"EHDS-GEN-002": Verdict.PASS}), doc({"EHDS-GEN-002": Verdict.ERROR}))
    assert not gating(changes, "should", "regression")
    assert gating(changes, "all", "regression")


def test_added_and_removed_requirements() -> None:
    old, new = doc(), doc()
    new["requirements"] = new["requirements"][1:]
    extra = dict(old["requirements"][0], id="EHDS-NEW-001")
    new["requirements"].append(extra)
    kinds = {c.id: (c.kind, c.old, c.new) for c in diff_reports(old, new)}
    assert kinds == {"EHDS-SEC-001": ("removed", "pass", None), "EHDS-NEW-001": ("added", None, "pass")}


def test_attested_to_fail_is_a_regression() -> None:
    old = doc()
    row = next(r for r in old["requirements"] if r["id"] == "EHDS-GEN-001")
    row["verdict"] = "attested"
    changes = diff_reports(old, doc({"EHDS-GEN-001": Verdict.FAIL}))
    assert [(c.id, c.kind) for c in changes] == [("EHDS-GEN-001", "regression")]


def test_json_output_round_trips(tmp_path: Path) -> None:
    from conformance.report.diff import render_json

    changes = diff_reports(doc(), doc({"EHDS-LOG-001": Verdict.FAIL}))
    data = json.loads(render_json(changes, gating(changes, "shall", "regression"), "shall"))
    assert data["gating"] == ["EHDS-LOG-001"]
    assert data["changes"][0]["kind"] == "regression"


def test_a_baseline_of_report_schema_1_0_0_is_still_compared(tmp_path) -> None:
    """CI baselines written by the previous harness (schema 1.0.0) are read as the current schema."""
    import json

    from conformance.cli import main
    from conformance.report import load_report, write_reports
    from tests.report.samples import make_run

    att = tmp_path / "a.yaml"
    att.write_text("attestations:\n  - {requirement: EHDS-GEN-001, who: J, role: QA, when: 2025-06-01, "
                   "statement: s, evidence: docs/}\n")
    write_reports(make_run(), tmp_path / "new", attestations=att)
    old = json.loads((tmp_path / "new" / "report.json").read_text())
    old["schema_version"] = "1.0.0"
    old["schema"] = old["schema"].replace("2.0.0", "1.0.0")
    for key in ("conclusion", "scope"):
        del old[key]
    del old["run"]["selection"], old["run"]["strict"]
    old["summary"]["conclusion"] = "error"  # a 1.0.0 value
    for a in old["attestations"]["items"]:
        del a["role"]
        a["evidence"] = "docs/"
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text(json.dumps(old))
    upgraded = load_report(tmp_path / "old")
    assert upgraded["summary"]["conclusion"] == upgraded["conclusion"]["status"] == "non-conformant"
    assert upgraded["attestations"]["items"][0]["role"] == "not recorded (report schema 1.0.0)"
    assert main(["report", "diff", str(tmp_path / "old"), str(tmp_path / "new")]) == 0
