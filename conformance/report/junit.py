"""junit.xml: one testcase per requirement, so any CI system shows the verdicts natively.

fail -> <failure>, error -> <error>, not-tested / not-applicable / attested -> <skipped>
with the reason (attested requirements were not tested automatically, so a CI
system must not count them as passed tests), pass -> a plain testcase.
The run's conclusion (the same one report.json and report.html show) is in
every testsuite's properties (`conclusion`, `conclusion_label`,
`conclusion_explanation`, `conclusion_blockers`): JUnit has no run-level
element every CI system reads, and properties are part of every JUnit schema.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from conformance.report.text import (
    blocker_lines,
    check_lines,
    clip,
    first_message,
    profile_label,
    sut_label,
    xml_safe,
)

JUNIT_FILE = "junit.xml"


def _case(doc: dict[str, Any], row: dict[str, Any]) -> ET.Element:
    suite = f"{doc['profile']['id']}.{row['category']}"
    case = ET.Element(
        "testcase",
        {
            "classname": suite,
            "name": xml_safe(f"{row['id']} [{row['level']}] {row['title']}"),
            "time": f"{row['duration']:.3f}",
        },
    )
    verdict = row["verdict"]
    details = "\n".join(line for c in row["checks"] for line in check_lines(c))
    if verdict in ("fail", "error"):
        tag = "failure" if verdict == "fail" else "error"
        el = ET.SubElement(case, tag, {"message": xml_safe(clip(first_message(row), 1000)), "type": verdict})
        el.text = xml_safe(details)
    elif verdict in ("not-tested", "not-applicable", "attested"):
        ET.SubElement(case, "skipped", {"message": xml_safe(clip(f"{verdict}: {row.get('reason', '')}", 1000))})
    out = [f"requirement: {row['id']} ({row['level']}, {row['category']})", f"verdict: {verdict}"]
    out += [f"reference: {r['source']} {r['section']}" for r in row["references"]]
    if verdict not in ("fail", "error") and details:
        out.append(details)
    ET.SubElement(case, "system-out").text = xml_safe("\n".join(out))
    return case


def junit_tree(doc: dict[str, Any]) -> ET.ElementTree:
    started = doc["run"]["started"]
    root = ET.Element("testsuites", {"name": xml_safe(f"ehds-conformance {profile_label(doc)} - {sut_label(doc)}")})
    conclusion = doc["conclusion"]
    suites: dict[str, ET.Element] = {}
    counts: dict[str, dict[str, float]] = {}
    for row in doc["requirements"]:
        name = f"{doc['profile']['id']}.{row['category']}"
        if name not in suites:
            suites[name] = ET.SubElement(root, "testsuite", {"name": name, "timestamp": started})
            props = ET.SubElement(suites[name], "properties")
            for k, v in (
                ("run_id", doc["run"]["id"]),
                ("profile", profile_label(doc)),
                ("profile_sha256", doc["profile"]["sha256"]),
                ("sut", sut_label(doc)),
                ("seed", doc["run"]["seed"]),
                ("harness", doc["run"]["harness"]["version"]),
                ("conclusion", conclusion["status"]),
                ("conclusion_label", conclusion["label"]),
                ("conclusion_explanation", conclusion["explanation"]),
                ("conclusion_blockers", "; ".join(blocker_lines(doc))),
            ):
                ET.SubElement(props, "property", {"name": k, "value": xml_safe(str(v))})
            counts[name] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        suites[name].append(_case(doc, row))
        c = counts[name]
        c["tests"] += 1
        c["time"] += row["duration"]
        v = row["verdict"]
        if v == "fail":
            c["failures"] += 1
        elif v == "error":
            c["errors"] += 1
        elif v != "pass":
            c["skipped"] += 1
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for name, suite in suites.items():
        for k, v in counts[name].items():
            suite.set(k, f"{v:.3f}" if k == "time" else str(int(v)))
            total[k] += v
    for k, v in total.items():
        root.set(k, f"{v:.3f}" if k == "time" else str(int(v)))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(doc: dict[str, Any], directory: Path) -> Path:
    path = directory / JUNIT_FILE
    junit_tree(doc).write(path, encoding="utf-8", xml_declaration=True)
    return path
