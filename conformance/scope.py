"""Applicability decided by the profile's scope rules, not by what the vendor declares.

A profile's ``scope:`` lists *mandatory* capabilities (a system in scope must declare
them: the European logging component, restriction, emergency access...) and the
legitimate *exclusions* (a priority category the system does not handle, HTTP for an
in-process adapter...), each with its rule and legal reference. For a check that needs
something the SUT does not declare:

- mandatory            -> the check **fails**, naming the rule and its reference;
- allowed by exclusion -> not-applicable, naming the exclusion rule;
- neither              -> the check fails: the profile allows no such exclusion.

A profile without any scope rule (a user's own profile) keeps the vendor's
declaration as the scope, and the report says so. Generic: this module knows rule
shapes, never a requirement or a capability by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping


@dataclass(frozen=True)
class ScopeRule:
    id: str
    rule: str
    references: tuple[Mapping[str, str], ...] = ()
    capabilities: frozenset[str] = frozenset()
    priority_categories: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ScopeRule":
        return cls(str(data["id"]), " ".join(str(data.get("rule", "")).split()),
                   tuple(dict(r) for r in data.get("references", []) or []),
                   frozenset(str(c) for c in data.get("capabilities", []) or []),
                   bool(data.get("priority_categories", False)))

    def cite(self) -> str:
        refs = "; ".join(f"{r.get('source', '')} {r.get('section', '')}".strip() for r in self.references)
        return f"{self.id}: {self.rule}" + (f" ({refs})" if refs else "")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "references": [dict(r) for r in self.references]}


@dataclass(frozen=True)
class Decision:
    """What to do with a check needing something undeclared: `fail` or `not-applicable`, and why."""

    verdict: str
    reason: str


@dataclass
class Scope:
    """The scope rules of a profile applied to one SUT description (its `to_json()` form)."""

    mandatory: tuple[ScopeRule, ...]
    exclusions: tuple[ScopeRule, ...]
    declared_capabilities: frozenset[str]
    categories: frozenset[str]
    declared_from: str = "the adapter's describe()"
    used_exclusions: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, profile_scope: Mapping[str, Any], sut: Mapping[str, Any]) -> "Scope":
        extra = sut.get("extra") or {}
        return cls(
            tuple(ScopeRule.from_json(r) for r in profile_scope.get("mandatory", []) or []),
            tuple(ScopeRule.from_json(r) for r in profile_scope.get("exclusions", []) or []),
            frozenset(str(c) for c in sut.get("capabilities", []) or []),
            frozenset(str(c) for c in [*(sut.get("produces") or []), *(sut.get("consumes") or [])]),
            str(extra.get("capabilities_source") or "the adapter's describe()"),
        )

    @property
    def has_rules(self) -> bool:
        return bool(self.mandatory or self.exclusions)

    def missing_mandatory(self) -> list[tuple[str, ScopeRule]]:
        """(capability, rule) for every mandatory capability the SUT does not declare."""
        return [(cap, rule) for rule in self.mandatory for cap in sorted(rule.capabilities)
                if cap not in self.declared_capabilities]

    def capability(self, capability: str) -> Decision:
        """The decision for a check needing `capability`, which the SUT does not declare."""
        if not self.has_rules:
            return Decision("not-applicable", f"the SUT does not declare capability {capability} "
                                              "(the profile states no scope rule: the declaration decides)")
        for rule in self.mandatory:
            if capability in rule.capabilities:
                return Decision("fail", f"the SUT does not declare capability {capability}, which is mandatory "
                                        f"for a system in scope: {rule.cite()}")
        for rule in self.exclusions:
            if capability in rule.capabilities:
                self.used_exclusions.setdefault(rule.id, set()).add(capability)
                return Decision("not-applicable", f"the SUT does not declare capability {capability}; "
                                                  f"excluded by {rule.id}: {rule.rule}")
        return Decision("fail", f"the SUT does not declare capability {capability}, and the profile allows no "
                                "exclusion of it")

    def category(self, category: str, *, what: str) -> Decision:
        """The decision for a check about a priority category the SUT does not handle (`what`: accepts/exports)."""
        if not self.has_rules:
            return Decision("not-applicable", f"the SUT does not declare that it {what} {category} documents")
        for rule in self.exclusions:
            if rule.priority_categories:
                self.used_exclusions.setdefault(rule.id, set()).add(category)
                return Decision("not-applicable", f"the SUT does not declare that it {what} {category} documents; "
                                                  f"excluded by {rule.id}: {rule.rule}")
        return Decision("fail", f"the SUT does not declare that it {what} {category} documents, and the profile "
                                "allows no exclusion of a priority category")

    def to_json(self, all_categories: Iterable[str] = ()) -> dict[str, Any]:
        """For the report header: what was declared, where from, what was excluded on which rule, what is missing."""
        excluded = [{"rule": r.to_json(), "excluded": sorted(self.used_exclusions.get(r.id, set()))}
                    for r in self.exclusions if r.id in self.used_exclusions]
        not_handled = sorted(set(all_categories) - self.categories)
        return {
            "declared_from": self.declared_from,
            "declared_capabilities": sorted(self.declared_capabilities),
            "priority_categories": sorted(self.categories),
            "categories_not_handled": not_handled,
            "rules_stated": self.has_rules,
            "excluded": excluded,
            "missing_mandatory": [{"capability": cap, "rule": rule.to_json()} for cap, rule in self.missing_mandatory()],
        }


__all__ = ["Decision", "Scope", "ScopeRule"]
