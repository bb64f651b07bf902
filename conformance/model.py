"""Frozen data the whole harness shares: requirements, profiles, outcomes, verdicts.

Everything here is JSON-safe through `to_json()` so that outcomes can cross
pytest-xdist workers and land in reports unchanged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Level(str, enum.Enum):
    SHALL = "SHALL"
    SHOULD = "SHOULD"
    MAY = "MAY"


class Category(str, enum.Enum):
    INTEROPERABILITY = "interoperability"
    LOGGING = "logging"
    SECURITY = "security"
    GENERAL = "general"


class Verdict(str, enum.Enum):
    """Outcome of a check, and (by precedence) of a requirement."""

    FAIL = "fail"
    ERROR = "error"
    PASS = "pass"
    ATTESTED = "attested"
    NOT_APPLICABLE = "not-applicable"
    NOT_TESTED = "not-tested"


#: fail > error > pass > attested > not-applicable > not-tested
VERDICT_PRECEDENCE: tuple[Verdict, ...] = (
    Verdict.FAIL,
    Verdict.ERROR,
    Verdict.PASS,
    Verdict.ATTESTED,
    Verdict.NOT_APPLICABLE,
    Verdict.NOT_TESTED,
)


def combine(verdicts: list[Verdict]) -> Verdict:
    """The requirement's verdict from its checks' outcomes. No checks -> not-tested."""
    present = set(verdicts)
    for v in VERDICT_PRECEDENCE:
        if v in present:
            return v
    return Verdict.NOT_TESTED


@dataclass(frozen=True)
class Reference:
    """Where a requirement comes from: the regulation, a spec, an IG page."""

    source: str  # e.g. "Regulation (EU) 2025/327"
    section: str  # e.g. "Annex II 3.2(a)"
    url: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"source": self.source, "section": self.section}
        if self.url:
            out["url"] = self.url
        return out


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    statement: str
    level: Level
    category: Category
    applies_to: tuple[str, ...]  # priority categories, or ("all",)
    references: tuple[Reference, ...]
    profile: str = ""  # id of the profile that declares it
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "statement": self.statement,
            "level": self.level.value,
            "category": self.category.value,
            "applies_to": list(self.applies_to),
            "references": [r.to_json() for r in self.references],
            "declared_in": self.profile,
            **({"notes": self.notes} if self.notes else {}),
        }


@dataclass(frozen=True)
class Profile:
    """A resolved profile: `requirements` includes those inherited through `extends`,
    in declaration order (parents first)."""

    id: str
    version: str
    title: str
    fhir_version: str
    extends: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    description: str = ""
    path: str = ""
    sha256: str = ""
    fhir_packages: tuple[str, ...] = ()
    #: applicability rules (profile `scope:`, parents' rules included): {"mandatory": [...], "exclusions": [...]}
    scope: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def requirement(self, rid: str) -> Requirement:
        for r in self.requirements:
            if r.id == rid:
                return r
        raise KeyError(rid)

    @property
    def requirement_ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.requirements)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "fhir_version": self.fhir_version,
            "extends": list(self.extends),
            "sha256": self.sha256,
            "fhir_packages": list(self.fhir_packages),
        }


@dataclass
class CheckOutcome:
    """The outcome of one check (one pytest item) for the requirements it verifies."""

    nodeid: str
    name: str
    requirement_ids: list[str]
    verdict: Verdict
    duration: float = 0.0
    message: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    #: the check's procedure (its docstring): what it does, observes, and why that decides the requirement
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "name": self.name,
            "requirements": list(self.requirement_ids),
            "verdict": self.verdict.value,
            "duration": round(self.duration, 4),
            "message": self.message,
            "evidence": self.evidence,
            **({"description": self.description} if self.description else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CheckOutcome":
        return cls(
            nodeid=data["nodeid"],
            name=data["name"],
            requirement_ids=list(data["requirements"]),
            verdict=Verdict(data["verdict"]),
            duration=float(data.get("duration", 0.0)),
            message=data.get("message", ""),
            evidence=list(data.get("evidence", [])),
            description=data.get("description", ""),
        )


@dataclass
class RequirementResult:
    requirement: Requirement
    verdict: Verdict
    checks: list[CheckOutcome]
    reason: str = ""  # e.g. why not-applicable / not-tested, or the attestation


@dataclass
class RunResult:
    """Everything a report writer needs. Writers consume this and nothing else."""

    run_id: str
    started: str  # ISO 8601 UTC
    finished: str
    harness_version: str
    profile: Profile
    sut: dict[str, Any]
    requirements: list[RequirementResult]
    seed: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # hypothesis profile, explore, workers
    packages: list[dict[str, Any]] = field(default_factory=list)  # FHIR packages: name, version, sha256
    #: what narrowed the run (-k, --requirement, --category, collect-only); empty for a full run
    selection: dict[str, Any] = field(default_factory=dict)
    #: the declared scope, what the profile's rules excluded and where the declaration came from
    scope: dict[str, Any] = field(default_factory=dict)
    strict: bool = False

    def conclusion(self) -> Any:
        """The run's conclusion (see :mod:`conformance.conclusion`, the one place it is computed)."""
        from conformance.conclusion import conclude

        rows = [{"id": r.requirement.id, "level": r.requirement.level.value, "verdict": r.verdict.value,
                 "reason": r.reason} for r in self.requirements]
        return conclude(rows, selection=self.selection, strict=self.strict)

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts of verdicts by category and by level."""
        total: dict[str, int] = {v.value: 0 for v in VERDICT_PRECEDENCE}
        by_cat: dict[str, dict[str, int]] = {}
        by_level: dict[str, dict[str, int]] = {}
        for row in self.requirements:
            v = row.verdict.value
            total[v] += 1
            by_cat.setdefault(row.requirement.category.value, {x.value: 0 for x in VERDICT_PRECEDENCE})[v] += 1
            by_level.setdefault(row.requirement.level.value, {x.value: 0 for x in VERDICT_PRECEDENCE})[v] += 1
        return {"total": total, "by_category": by_cat, "by_level": by_level}  # type: ignore[return-value]
