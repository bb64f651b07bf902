"""An OperationDefinition against its `inputProfile` / `outputProfile`, as the reference validator cross-checks them.

The profiles are Parameters profiles with a slice of `Parameters.parameter` per parameter, named by a fixed
`name`. Each slice must agree with the parameter of that name and use in the operation's own list: cardinality,
the types it allows (its `resource` and `value[x]` types) and the target profiles of those types. A parameter
on one side only is a warning (a profile may describe less, or more, than the list); a disagreement on a
parameter both describe is an error, located as the reference validator locates it
(`OperationDefinition.inputProfile.parameter[i]`, i the parameter's index in the operation's list).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.fhir.structure import Elem
    from conformance.issues import ValidationIssue


class _ProfileParameter(NamedTuple):
    min: int
    max: str
    types: frozenset[str]
    targets: frozenset[str]


def _max(value: Any) -> str:
    return "*" if value is None else str(value)


def _profile_parameters(root: Elem) -> dict[str, _ProfileParameter]:
    """The parameters a Parameters profile describes, by name: its slices of `parameter` with a fixed name."""
    parameter = root.children.get("parameter")
    out: dict[str, _ProfileParameter] = {}
    for sl in parameter.slices if parameter is not None else ():
        name_elem = sl.children.get("name")
        fixed = name_elem.fixed or name_elem.pattern if name_elem is not None else None
        if not fixed or not isinstance(fixed[1], str):
            continue
        types: set[str] = set()
        targets: set[str] = set()
        for child in ("resource", "value"):
            e = sl.children.get(child)
            if e is None or e.max == 0 or _unconstrained(e):
                continue
            for t in e.types:
                types.add(t.code)
                targets.update(u.partition("|")[0] for u in t.targets)
        out[fixed[1]] = _ProfileParameter(sl.min, _max(sl.max), frozenset(types), frozenset(targets))
    return out


def _unconstrained(e: Elem) -> bool:
    """`resource` still any Resource, or `value[x]` still any of its ~50 types: the slice says nothing of them."""
    codes = {t.code for t in e.types}
    return codes <= {"Resource", "DomainResource"} and not any(t.profiles for t in e.types) or len(codes) > 10


def check_operation_definition(run: RunContext, od: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    params = [p for p in as_list(od.get("parameter")) if isinstance(p, dict)]
    for use, key in (("in", "inputProfile"), ("out", "outputProfile")):
        url = od.get(key)
        cs = run.v.structure(url) if isinstance(url, str) else None
        if cs is None or cs.type != "Parameters":
            continue
        described = _profile_parameters(cs.root)
        listed = {p.get("name") for p in params if p.get("use") == use}
        for name in described:
            if name not in listed:
                sink.append(issue("warning", "business-rule", f"{loc}.{key}", f"The '{use}' profile {url} defines a "
                                  f"parameter '{name}' but this is not in the parameters list in the operation "
                                  "definition", "operationdefinition.profile"))
        for i, p in enumerate(params):
            if p.get("use") != use:
                continue
            ploc, name = f"{loc}.{key}.parameter[{i}]", p.get("name")
            prof = described.get(name) if isinstance(name, str) else None
            if prof is None:
                sink.append(issue("warning", "business-rule", ploc, f"The '{use}' profile does not have a parameter "
                                  f"'{name}' but it is in the parameters list in the operation definition",
                                  "operationdefinition.profile"))
                continue
            _compare(p, prof, use, str(url), ploc, sink)


def _compare(p: dict[str, Any], prof: _ProfileParameter, use: str, url: str, ploc: str,
             sink: list[ValidationIssue]) -> None:
    """The disagreements between one parameter of the list and its slice in the profile, one error each."""
    def error(message: str, what: str) -> None:  # one rule per kind of disagreement: each is its own finding
        sink.append(issue("error", "business-rule", ploc, message, f"operationdefinition.profile-{what}"))

    name = p.get("name")
    for field, ours in (("min", prof.min), ("max", prof.max)):
        theirs = p.get(field)
        if theirs is not None and str(theirs) != str(ours):
            error(f"The parameter '{name}' has a value for '{field}' of '{ours}' in the '{use}' profile {url} that is "
                  f"different to '{theirs}' which is the value in the parameter definition in the operation definition",
                  field)
    op_types = {p["type"]} if isinstance(p.get("type"), str) else set()
    if op_types and prof.types:
        for t in sorted(prof.types - op_types):
            error(f"The type '{t}' is allowed for the parameter '{name}' in the '{use}' profile {url} but is not in "
                  f"the list of allowed types for the parameter in the operation definition: {', '.join(op_types)}",
                  f"type-{t}")
        for t in sorted(op_types - prof.types):
            error(f"The type '{t}' is not allowed for the parameter '{name}' in the '{use}' profile {url} but is in "
                  f"the list of allowed types for the parameter in the operation definition (allowed types = "
                  f"{', '.join(sorted(prof.types))})", f"type-{t}")
    op_targets = {u.partition("|")[0] for u in as_list(p.get("targetProfile")) if isinstance(u, str)}
    for u in sorted(prof.targets - op_targets):
        error(f"The target profile '{u}' is allowed for the parameter '{name}' in the '{use}' profile {url} but is not "
              "in the list of target profiles for the parameter in the operation definition", f"target-{u}")
    for u in sorted(op_targets - prof.targets):
        error(f"The target profile '{u}' is not allowed for the parameter '{name}' in the '{use}' profile {url} but is "
              f"in the list of target profiles for the parameter in the operation definition (profile target "
              f"profiles = {', '.join(sorted(prof.targets)) or '(none)'})", f"target-{u}")
