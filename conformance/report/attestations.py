"""Attestations: a person's signed-off statement, with evidence, for a requirement no check can decide.

Some EHDS requirements are about documentation or organisation (instructions for
use, a named contact, a published change log). They cannot be tested through the
adapter, so the vendor attests them in a YAML file::

    attestations:
      - requirement: EHDS-GEN-003
        who: Jane Doe
        role: Quality Manager, ACME Health      # what entitles them to attest
        when: 2025-06-01
        statement: The instructions for use in all official languages ship with every release.
        evidence:                               # the attested document: a reference and/or its digest
          reference: https://acme.example/ifu/4.2/
          sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

The rule (one function, `decide`, used by every path: the report document of a
run, `conformance report render --attestations`, and `attest_run` for the exit
code and terminal summary):

- a requirement for which the run recorded an automated check outcome (any check
  outcome other than not-applicable: pass, fail, error, or an inconclusive
  not-tested) is decided by checks, not by people: the attestation is REFUSED with
  an error naming the file, line, entry and requirement. A failing check cannot be
  talked away, and a passing one needs no signature;
- a requirement with no check outcome that is not-tested becomes `attested`
  (shown apart from `pass`: nothing was tested);
- a requirement excluded by the declared scope (not-applicable, every check
  outcome not-applicable) stays not-applicable; the attestation is recorded
  alongside and not applied;
- a requirement the profile does not have is recorded as ignored (did-you-mean).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import UsageError
from conformance.model import RunResult, Verdict

REQUIRED = ("requirement", "who", "role", "when", "statement", "evidence")
EVIDENCE_KEYS = ("reference", "sha256")
_HINT = ("each attestation needs: requirement, who, role (the attestor's role), when (YYYY-MM-DD), statement, "
         "evidence (reference: where the attested document is, and/or sha256: its digest)")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

#: statuses of an attestation in the report
APPLIED, RECORDED, IGNORED = "applied", "recorded", "ignored"


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
    text = "" if value is None else str(node.value).strip()  # the text as written: a digest stays a string
    if not text:
        raise _err(path, node, f"'{key}' is empty")
    return text


def _evidence(path: Path, node: yaml.Node) -> dict[str, str]:
    """`evidence`: a mapping of reference and/or sha256; a single value is taken as the reference."""
    if isinstance(node, yaml.ScalarNode):
        return {"reference": _scalar(path, node, "evidence")}
    if not isinstance(node, yaml.MappingNode):
        raise _err(path, node, "'evidence' must be a mapping with reference and/or sha256")
    out: dict[str, str] = {}
    for knode, vnode in node.value:
        key = knode.value
        if key not in EVIDENCE_KEYS:
            close = difflib.get_close_matches(key, EVIDENCE_KEYS, n=1)
            raise _err(path, knode, f"unknown evidence field '{key}'",
                       f"did you mean '{close[0]}'?" if close else "evidence has: reference, sha256")
        value = _scalar(path, vnode, f"evidence.{key}")
        if key == "sha256" and not _SHA256.match(value.lower()):
            raise _err(path, vnode, f"'evidence.sha256' is not a sha256 digest (64 hex digits): {value!r}",
                       "compute it with `sha256sum FILE` on the attested document")
        out[key] = value.lower() if key == "sha256" else value
    if not out:
        raise _err(path, node, "'evidence' is empty")
    return out


def load_attestations(path: Path | str) -> dict[str, Any]:
    """Read and check an attestations file. Errors name the file, line and field.

    Returns {"source": file name, "sha256": digest of the file, "items": [...]}, each item with
    requirement, who, role, when, statement, evidence {reference?, sha256?}, its `line` and `index`
    (1-based position in the file).
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
    for index, node in enumerate(root.value, start=1):
        if not isinstance(node, yaml.MappingNode):
            raise _err(path, node, "an attestation must be a mapping")
        item: dict[str, Any] = {}
        for knode, vnode in node.value:
            key = knode.value
            if key not in REQUIRED:
                close = difflib.get_close_matches(key, REQUIRED, n=1)
                hint = f"did you mean '{close[0]}'?" if close else _HINT
                raise _err(path, knode, f"unknown field '{key}'", hint)
            item[key] = _evidence(path, vnode) if key == "evidence" else _scalar(path, vnode, key)
        missing = [k for k in REQUIRED if k not in item]
        if missing:
            what = ", ".join(repr(m) for m in missing)
            raise _err(path, node, f"attestation #{index} ({item.get('requirement', '?')}) is missing {what}")
        item["line"] = node.start_mark.line + 1
        item["index"] = index
        items.append(item)
    return {"source": path.name, "sha256": hashlib.sha256(raw).hexdigest(), "items": items}


def decide(item: dict[str, Any], source: str, verdict: str | None, checks: Iterable[tuple[str, str]],
           known: Iterable[str] = ()) -> tuple[str, str]:
    """The one rule: what an attestation does to a requirement (see the module docstring).

    verdict: the requirement's verdict before attestations (None: not in the profile);
    checks: (name, verdict) of every check outcome the run recorded for it.
    Returns (status, why); raises UsageError when the attestation is refused.
    """
    rid = item["requirement"]
    if verdict is None:
        close = difflib.get_close_matches(rid, list(known), n=1)
        return IGNORED, "requirement is not in the profile" + (f" (did you mean {close[0]}?)" if close else "")
    deciding = [(name, v) for name, v in checks if v != Verdict.NOT_APPLICABLE.value]
    if deciding:
        shown = ", ".join(f"{name} ({v})" for name, v in deciding[:3]) + (" ..." if len(deciding) > 3 else "")
        raise UsageError(
            f"{source}: attestation #{item.get('index', '?')} for {rid} refused: the requirement has an "
            f"automated check ({shown}); an attestation stands only for what no check can decide\n"
            "  hint: remove the entry; a failing check is fixed in the SUT, not attested"
        )
    if verdict in (Verdict.NOT_TESTED.value, Verdict.ATTESTED.value):
        return APPLIED, "no automated check can decide this requirement"
    if verdict == Verdict.NOT_APPLICABLE.value:
        return RECORDED, "the requirement is outside the SUT's declared scope (not-applicable); kept alongside"
    raise UsageError(f"{source}: attestation #{item.get('index', '?')} for {rid} refused: verdict {verdict} "
                     "was decided by an automated check")


def attested_reason(item: dict[str, Any], before: str) -> str:
    """The reason of an attested requirement (the same text in every output)."""
    return (f"attested by {item['who']} ({item['role']}) on {item['when']} "
            f"(not tested automatically: {before or 'no automated check'})")


def _entry(item: dict[str, Any], source: str, status: str, why: str) -> dict[str, Any]:
    entry = {k: item[k] for k in REQUIRED}
    entry.update(source=source, status=status, why=why)
    return entry


def apply(doc: dict[str, Any], attestations: dict[str, Any]) -> dict[str, Any]:
    """Apply loaded attestations to a report document's requirement rows (in place), by `decide`.

    Every attestation's outcome is recorded in doc["attestations"] and on its row.
    Raises UsageError for a refused attestation.
    """
    rows = {row["id"]: row for row in doc["requirements"]}
    outcomes: list[dict[str, Any]] = []
    for item in attestations["items"]:
        source = f"{attestations['source']}:{item['line']}"
        row = rows.get(item["requirement"])
        checks = [(c["name"], c["verdict"]) for c in row["checks"]] if row else []
        status, why = decide(item, source, row["verdict"] if row else None, checks, rows)
        entry = _entry(item, source, status, why)
        if row is not None:
            if status == APPLIED and row["verdict"] == Verdict.NOT_TESTED.value:
                row["verdict"] = Verdict.ATTESTED.value
                row["reason"] = attested_reason(item, row.get("reason", ""))
            row.setdefault("attestations", []).append(entry)
        outcomes.append(entry)
    doc["attestations"] = {"source": attestations["source"], "sha256": attestations["sha256"], "items": outcomes}
    return doc


def attest_run(result: RunResult, path: Path | str) -> RunResult:
    """A copy of a run with the attestations file applied by the same rule (`decide`) as the report.

    For callers that decide before the report is written (the exit code, the terminal summary).
    Raises UsageError for a malformed file or a refused attestation, exactly as `write_reports` does.
    """
    loaded = load_attestations(path)
    by_id = {row.requirement.id: row for row in result.requirements}
    attested: dict[str, dict[str, Any]] = {}
    for item in loaded["items"]:
        row = by_id.get(item["requirement"])
        checks = [(c.name, c.verdict.value) for c in row.checks] if row else []
        status, _ = decide(item, f"{loaded['source']}:{item['line']}", row.verdict.value if row else None,
                           checks, by_id)
        if status == APPLIED:
            attested.setdefault(item["requirement"], item)
    rows = []
    for row in result.requirements:
        item = attested.get(row.requirement.id)
        if item is not None and row.verdict is Verdict.NOT_TESTED:
            row = dataclasses.replace(row, verdict=Verdict.ATTESTED, reason=attested_reason(item, row.reason))
        rows.append(row)
    return dataclasses.replace(result, requirements=rows)
