"""allure-results/: one Allure test result per requirement, for teams that already run an Allure server.

Written with allure-python-commons' own model classes (the package allure-pytest
is built on) so the files follow the Allure result format exactly. Uuids are
derived from the run id and requirement id, so re-writing a report gives the same
files; historyId is stable across runs, so Allure shows each requirement's history.

Labels: requirement (id), category, level, verdict, plus the standard suite /
feature / story / severity / tag labels Allure's UI groups by.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from allure_commons.model2 import (
    Attachment,
    Label,
    Link,
    Parameter,
    Status,
    StatusDetails,
    TestResult,
    TestStepResult,
)
from attr import asdict

from conformance.report.text import check_lines, first_message, profile_label, sut_label

ALLURE_DIR = "allure-results"
STATUS = {
    "pass": Status.PASSED,
    "fail": Status.FAILED,
    "error": Status.BROKEN,
    "not-applicable": Status.SKIPPED,
    "not-tested": Status.SKIPPED,
    "attested": Status.SKIPPED,
}
SEVERITY = {"SHALL": "critical", "SHOULD": "normal", "MAY": "minor"}
NAMESPACE = uuid.UUID("1b7e3a52-8f0f-4f53-a3f4-2f0d2b9c7e11")


def _ms(text: str) -> int | None:
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except (TypeError, ValueError):
        return None


def _dump(item: Any) -> str:
    # same filter as allure_commons.logger.AllureFileLogger: drop empty values, keep False
    return json.dumps(asdict(item, filter=lambda _, v: v or v is False), ensure_ascii=False, indent=1)


def write_allure(doc: dict[str, Any], directory: Path) -> list[Path]:
    out_dir = directory / ALLURE_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*"):  # a rewritten report must not carry results of an earlier write
        if stale.is_file() and (
            stale.name.endswith(("-result.json", "-attachment.json")) or stale.name == "environment.properties"
        ):
            stale.unlink()
    run, prof = doc["run"], doc["profile"]
    clock = _ms(run["started"]) or 0
    written: list[Path] = []
    for row in doc["requirements"]:
        rid = row["id"]
        key = f"{run['id']}/{rid}"
        result_uuid = str(uuid.uuid5(NAMESPACE, key))
        full_name = f"{prof['id']}.{row['category']}.{rid}"
        steps = []
        start = clock
        for i, check in enumerate(row["checks"]):
            dur = int(check["duration"] * 1000)
            attachment_name = f"{uuid.uuid5(NAMESPACE, f'{key}/{i}')}-attachment.json"
            (out_dir / attachment_name).write_text(
                json.dumps(check["evidence"], indent=1, ensure_ascii=False, default=str), encoding="utf-8"
            )
            written.append(out_dir / attachment_name)
            steps.append(
                TestStepResult(
                    name=check["name"],
                    status=STATUS[check["verdict"]],
                    stage="finished",
                    statusDetails=StatusDetails(message=check["message"] or None),
                    attachments=[Attachment(name="evidence", source=attachment_name, type="application/json")],
                    parameters=[Parameter(name="nodeid", value=check["nodeid"])]
                    + ([Parameter(name="seed", value=check["seed"])] if check.get("seed") else []),
                    start=start,
                    stop=start + dur,
                )
            )
            start += dur
        verdict = row["verdict"]
        message = (
            first_message(row) if verdict in ("fail", "error") else f"{verdict}: {row.get('reason', '')}".strip(": ")
        )
        trace = "\n".join(line for c in row["checks"] for line in check_lines(c)) or None
        labels = [
            Label("requirement", rid),
            Label("category", row["category"]),
            Label("level", row["level"]),
            Label("verdict", verdict),
            Label("parentSuite", profile_label(doc)),
            Label("suite", row["category"]),
            Label("subSuite", row["level"]),
            Label("epic", profile_label(doc)),
            Label("feature", row["category"]),
            Label("story", rid),
            Label("severity", SEVERITY.get(row["level"], "normal")),
            Label("tag", row["level"]),
            Label("framework", "ehds-conformance"),
            Label("host", sut_label(doc)),
        ]
        result = TestResult(
            uuid=result_uuid,
            historyId=hashlib.md5(f"{prof['id']}/{rid}".encode()).hexdigest(),
            testCaseId=hashlib.md5(rid.encode()).hexdigest(),
            fullName=full_name,
            name=f"{rid} {row['title']}",
            description=row["statement"],
            status=STATUS[verdict],
            statusDetails=StatusDetails(message=message or None, trace=trace),
            stage="finished",
            steps=steps,
            labels=labels,
            links=[
                Link(type="link", url=r["url"], name=f"{r['source']} {r['section']}")
                for r in row["references"]
                if r.get("url")
            ],
            start=clock,
            stop=max(start, clock),
            titlePath=[profile_label(doc), row["category"]],
        )
        path = out_dir / f"{result_uuid}-result.json"
        path.write_text(_dump(result), encoding="utf-8")
        written.append(path)
    env = out_dir / "environment.properties"
    sut = doc.get("sut", {})
    props = {
        "profile": profile_label(doc),
        "profile.sha256": prof["sha256"],
        "sut.product": sut.get("product", ""),
        "sut.version": sut.get("version", ""),
        "sut.vendor": sut.get("vendor", ""),
        "run.id": run["id"],
        "run.seed": run["seed"],
        "harness.version": run["harness"]["version"],
        "conclusion": doc["conclusion"]["label"],  # the one conclusion every output shows
        "conclusion.explanation": doc["conclusion"]["explanation"],
    }
    env.write_text("".join(f"{k}={_prop(v)}\n" for k, v in props.items()), encoding="utf-8")
    written.append(env)
    return written


def _prop(value: Any) -> str:
    """A Java .properties value: backslash, newline and leading blanks escaped."""
    text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return ("\\" + text) if text[:1] in (" ", "\t") else text
