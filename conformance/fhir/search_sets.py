"""The rules of a search set Bundle (`Bundle.type = searchset`), as the HL7 reference validator applies them.

A search set should say what the search was (a `self` link) and, per entry, why the entry is there
(`search.mode`: a match, an included resource, or an outcome). With modes, each entry is held to its mode: a
match or an include is a resource on the server, so it has an id, and a match is of a type the search asked for;
an outcome is an OperationOutcome. Without any mode the reference validator can only guess: entries of a type
the search did not ask for, or of mixed types, make the missing modes a warning, else a remark.

The types a search asked for are read off the self link as the reference validator reads them: the last path
segment before the query when it is a resource type (`.../Patient?name=x`), else the `_type` parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.issues import ValidationIssue

NO_MODE = "SearchSet bundles should have search modes on the entries"


def check_search_set(bundle: dict[str, Any], loc: str, sink: list[ValidationIssue],
                     resource_types: frozenset[str] | set[str]) -> None:
    """The search set rules above, for a Bundle of type searchset (anything else is left alone)."""
    if bundle.get("type") != "searchset":
        return
    entries = [(i, e) for i, e in enumerate(as_list(bundle.get("entry"))) if isinstance(e, dict)]
    self_url = next((link.get("url") for link in as_list(bundle.get("link"))
                     if isinstance(link, dict) and link.get("relation") == "self"), None)
    types: list[str] = []
    if self_url is None:
        sink.append(issue("warning", "invalid", loc, "SearchSet Bundles should have a self link that specifies what "
                          "the search was (hint: add Bundle.link with relation 'self' and the search URL)",
                          "bundle.search-self"))
    else:
        types = searched_types(self_url, resource_types)
        if not types:
            sink.append(issue("information", "invalid", loc, "No types could be determined from the search string, "
                              "so the types can't be checked", "bundle.search-types"))
    modes = [_mode(e) for _i, e in entries]
    if entries and not any(modes):
        _without_modes(entries, types, self_url is not None, loc, sink)
        return
    for (i, e), mode in zip(entries, modes, strict=True):
        eloc = f"{loc}.entry[{i}]"
        if mode is None:
            sink.append(issue("warning", "invalid", eloc, NO_MODE, "bundle.search-mode"))
        res = e.get("resource")
        if not isinstance(res, dict) or mode is None:
            continue
        rt = res.get("resourceType")
        if mode in ("match", "include") and not res.get("id"):  # a resource on the server has an id
            sink.append(issue("error", "required", f"{eloc}.resource", "Search results must have ids",
                              "bundle.search-id"))
        if mode == "match" and types and rt not in types:
            sink.append(issue("error", "invalid", f"{eloc}.resource", f"This is not a matching resource type for "
                              f"the specified search ({rt} expecting {', '.join(types)})", "bundle.search-type"))
        elif mode == "outcome" and rt != "OperationOutcome":
            sink.append(issue("error", "invalid", f"{eloc}.resource", f"This is not an OperationOutcome ({rt})",
                              "bundle.search-outcome"))


def _without_modes(entries: list[tuple[int, dict[str, Any]]], types: list[str], has_self: bool, loc: str,
                   sink: list[ValidationIssue]) -> None:
    """No entry says its mode: guess from the types. A type the search did not ask for, or entries of more than
    one type, make the missing modes a warning."""
    type_problem, first_type = False, None
    for i, e in entries:
        res = e.get("resource")
        if not isinstance(res, dict):
            continue  # an entry without a resource is bdl-5's
        rt, rloc = res.get("resourceType"), f"{loc}.entry[{i}].resource"
        if not types:
            type_problem = True
            if has_self:
                sink.append(issue("information", "invalid", rloc, "Unable to determine if this resource is a valid "
                                  "resource type for this search", "bundle.search-type"))
        elif rt not in types:
            type_problem = True
            sink.append(issue("warning", "invalid", f"{loc}.entry[{i}]", f"This is not a matching resource type for "
                              f"the specified search (is a search mode needed?) ({rt} expecting {', '.join(types)})",
                              "bundle.search-type"))
            continue
        elif rt != "OperationOutcome":
            type_problem = type_problem or (first_type is not None and rt != first_type)
            first_type = first_type or rt
        if not res.get("id") and rt != "OperationOutcome":
            sink.append(issue("warning", "invalid", rloc, "Search results must have ids", "bundle.search-id"))
    sink.append(issue("warning" if type_problem else "information", "invalid", loc, NO_MODE, "bundle.search-mode"))


def searched_types(url: Any, resource_types: frozenset[str] | set[str]) -> list[str]:
    """The resource types a search URL asks for: its last path segment when a resource type, else `_type`."""
    if not isinstance(url, str):
        return []
    head, _, query = url.partition("?")
    last = head.split("/")[-1]
    if last in resource_types:
        return [last]
    return [t for p in query.split("&") if p.startswith("_type=") for t in p[6:].split(",") if t]


def _mode(entry: dict[str, Any]) -> str | None:
    search = entry.get("search")
    mode = search.get("mode") if isinstance(search, dict) else None
    return mode if isinstance(mode, str) else None
