"""Attestations: a person's signed-off statement for a requirement no check can decide.

Some EHDS requirements are about documentation or organisation (instructions for
use, a named contact, a published change log). They cannot be tested through the
adapter, so the vendor attests them in a YAML file::

    attestations:
      - requirement: EHDS-GEN-003
        who: Jane Doe, Quality Manager, ACME Health
        when: 2025-06-01
        statement: The instructions for use in all official languages ship with every release.
        evidence: docs/ifu/ (release 4.2)      # optional

An attestation turns a `not-tested` requirement into `attested` (shown apart from
`pass`: nothing was tested). It never changes a verdict that a check decided:
over `fail` or `error` it is recorded as ignored, so a failing check cannot be
talked away; over `pass` or `not-applicable` it is recorded alongside.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import UsageError
from conformance.model import RunResult, Verdict

REQUIRED = ("requirement", "who", "when", "statement")
OPTIONAL = ("evidence",)
_HINT = "each attestation needs: requirement, who, when (YYYY-MM-DD), statement; optional: evidence"


def _err(path: Path, node: yaml.Node | None, message: str, hint: str = _HINT) -> UsageError:
    line = f":{node.start_mark.line + 1}" if node is not None else ""
    return UsageError(f"{path}{line}: {message}\n  hint: {hint}")


def _scalar(path: Path, node: yaml.Node, key: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise _err(path, node, f"'{key}' must be a single value, not a {node.id}")
    value = yaml.safe_load(yaml.serialize(node))
    if key == "when":
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        try:
            datetime.fromisoformat(str(value))
        except ValueError:
            raise _err(path, node, f"'when' is not an ISO 8601 date: {value!r}") from None
        return str(value)
    text = "" if value is None else str(value).strip()
    if not text:
        raise _err(path, node, f"'{key}' is empty")
    return text


def load_attestations(path: Path | str) -> dict[str, Any]:
    """Read and check an attestations file. Errors name the file, line and field.

    Returns {"source": file name, "sha256": digest of the file, "items": [...]}, each
    item with requirement, who, when, statement, optional evidence and its `line`.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read attestations file ({exc.strerror})") from None
    try:
        root = yaml.compose(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from None
    if root is None:
        raise _err(path, None, "file is empty")
    if isinstance(root, yaml.MappingNode):
        keys = {k.value: v for k, v in root.value}
        unknown = [k for k in root.value if k[0].value != "attestations"]
        if unknown:
            raise _err(
                path,
                unknown[0][0],
                f"unknown top-level key '{unknown[0][0].value}'",
                "the file holds one key, 'attestations', with a list of attestations",
            )
        root = keys.get("attestations")
        if root is None:
            raise _err(path, None, "'attestations' is missing")
    if not isinstance(root, yaml.SequenceNode):
        raise _err(path, root, "expected a list of attestations")
    items: list[dict[str, Any]] = []
    for node in root.value:
        if not isinstance(node, yaml.MappingNode):
            raise _err(path, node, "an attestation must be a mapping")
        item: dict[str, Any] = {}
        for knode, vnode in node.value:
            key = knode.value
            if key not in REQUIRED + OPTIONAL:
                close = difflib.get_close_matches(key, REQUIRED + OPTIONAL, n=1)
                hint = f"did you mean '{close[0]}'?" if close else _HINT
                raise _err(path, knode, f"unknown field '{key}'", hint)
            item[key] = _scalar(path, vnode, key)
        missing = [k for k in REQUIRED if k not in item]
        if missing:
            raise _err(path, node, f"attestation is missing {', '.join(repr(m) for m in missing)}")
        item["line"] = node.start_mark.line + 1
        items.append(item)
    return {"source": path.name, "sha256": hashlib.sha256(raw).hexdigest(), "items": items}


def apply(doc: dict[str, Any], attestations: dict[str, Any]) -> dict[str, Any]:
    """Apply loaded attestations to a report document's requirement rows (in place).

    Only `not-tested` rows become `attested`. The outcome of every attestation is
    recorded in doc["attestations"] (applied / recorded / ignored, with why).
    """
    rows = {row["id"]: row for row in doc["requirements"]}
    outcomes: list[dict[str, Any]] = []
    for item in attestations["items"]:
        rid = item["requirement"]
        entry = {k: item[k] for k in REQUIRED + OPTIONAL if k in item}
        entry["source"] = f"{attestations['source']}:{item['line']}"
        row = rows.get(rid)
        if row is None:
            close = difflib.get_close_matches(rid, list(rows), n=1)
            entry["status"] = "ignored"
            entry["why"] = f"requirement is not in profile {doc['profile']['id']}" + (
                f" (did you mean {close[0]}?)" if close else ""
            )
            outcomes.append(entry)
            continue
        verdict = row["verdict"]
        if verdict in (Verdict.NOT_TESTED.value, Verdict.ATTESTED.value):
            if verdict == Verdict.NOT_TESTED.value:
                before = row.get("reason") or "no automatic check"
                row["verdict"] = Verdict.ATTESTED.value
                row["reason"] = f"attested by {item['who']} on {item['when']} (not tested automatically: {before})"
            entry["status"] = "applied"
            entry["why"] = "requirement had no automatic verdict"
        elif verdict in (Verdict.FAIL.value, Verdict.ERROR.value):
            entry["status"] = "ignored"
            entry["why"] = f"an attestation never overrides a {verdict} verdict from an automatic check"
        else:
            entry["status"] = "recorded"
            entry["why"] = f"verdict {verdict} was decided by automatic checks; attestation kept alongside"
        row.setdefault("attestations", []).append(entry)
        outcomes.append(entry)
    doc["attestations"] = {"source": attestations["source"], "sha256": attestations["sha256"], "items": outcomes}
    return doc


def attest_run(result: RunResult, path: Path | str) -> RunResult:
    """A copy of a run whose not-tested requirements named in the attestations file are `attested`.

    For callers that decide on verdicts before the report is written (the exit code of
    `conformance run --strict`, the terminal summary). The report itself still needs
    `write_reports(..., attestations=path)`, which records who attested what and when.
    """
    loaded = load_attestations(path)
    by_id: dict[str, dict[str, Any]] = {}
    for item in loaded["items"]:
        by_id.setdefault(item["requirement"], item)
    rows = []
    for row in result.requirements:
        item = by_id.get(row.requirement.id)
        if item is not None and row.verdict is Verdict.NOT_TESTED:
            reason = f"attested by {item['who']} on {item['when']}"
            row = dataclasses.replace(row, verdict=Verdict.ATTESTED, reason=reason)
        rows.append(row)
    return dataclasses.replace(result, requirements=rows)
