"""Laboratory report: a Composition and a DiagnosticReport aligned on subject, type and identifier.
"""

from __future__ import annotations

from typing import Any

from conformance.documents.common import (
    CATEGORY_TYPES,
    LAB_TESTS,
    LOINC,
    MINIMAL_BASE,
    UCUM,
    concept,
    ref,
    table_narrative,
)
from conformance.documents.frame import Frame, finish_document, make_section


def build(frame: Frame) -> dict[str, Any]:
    """One Composition and one DiagnosticReport, aligned on subject, type and identifier;
    the report's results are exactly the observations the section lists."""
    n = frame.chooser.integer(1, 4)
    chosen: list[tuple[Any, ...]] = []
    for _ in range(n):
        test = frame.chooser.choice(LAB_TESTS)
        if test not in chosen:
            chosen.append(test)
    collected = frame.instant(8, 0)
    urls, rows = [], []
    for code, display, unit, low, high, (lo10, hi10) in chosen:
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [concept("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory",
                                 "Laboratory")],
            "code": concept(LOINC, code, display),
            "subject": ref(frame.patient_url),
            "effectiveDateTime": collected,
            "performer": [ref(frame.org_url)],
        }
        if frame.chooser.integer(0, 5) == 5:  # sometimes no value, and the reason why (LAB-002)
            observation["dataAbsentReason"] = concept("http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                                      "error", "Error")
            observation["note"] = [{"text": "Sample haemolysed; no result."}]
            rows.append((display, "no result (sample haemolysed)", f"{low:g}-{high:g}", ""))
        else:
            value = frame.chooser.integer(lo10, hi10) / 10
            interpretation = "N" if low <= value <= high else ("L" if value < low else "H")
            observation["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
            observation["interpretation"] = [concept(
                "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", interpretation)]
            rows.append((display, f"{value:g} {unit}", f"{low:g}-{high:g}", interpretation))
        observation["referenceRange"] = [{"low": {"value": low, "unit": unit, "system": UCUM, "code": unit},
                                          "high": {"value": high, "unit": unit, "system": UCUM, "code": unit}}]
        urls.append(frame.add(observation))
    code, display = CATEGORY_TYPES["laboratory"]
    report_url = frame.add({
        "resourceType": "DiagnosticReport",
        "status": "final",
        "category": [concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")],
        "code": concept(LOINC, code, display),
        "subject": ref(frame.patient_url),
        "effectiveDateTime": collected,
        "issued": frame.instant(),
        "performer": [ref(frame.org_url)],
        "result": [ref(u) for u in urls],
    })
    text = table_narrative("Laboratory results", ("Test", "Result", "Reference range", "Flag"), rows)
    section = make_section("Laboratory results", "26436-6", "Laboratory studies (set)", text, urls)
    bundle = finish_document(frame, "Laboratory report", [section])
    # align: the report carries the document's identifier (LAB-001 dr-comp-identifier)
    composition = bundle["entry"][0]["resource"]
    for entry in bundle["entry"]:
        if entry["fullUrl"] == report_url:
            entry["resource"]["identifier"] = [dict(composition["identifier"])]
    composition["extension"] = [{"url": f"{MINIMAL_BASE}/composition-diagnostic-report",
                                 "valueReference": ref(report_url)}]
    return bundle
