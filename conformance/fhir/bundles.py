"""Bundle-level rules the element walk cannot see: fullUrl presence and form, fullUrl/id agreement,
link relations by Bundle type and a document's stylesheet, search sets (`search_sets`), the entries a bundle rule of the settings sends to a profile. (References between entries are `references.py`; bdl-* invariants run as
invariants.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.primitives import has_scheme
from conformance.fhir.search_sets import check_search_set
from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.fhir.references import BundleIndex
    from conformance.issues import ValidationIssue


def check_bundle(bundle: dict[str, Any], loc: str, sink: list[ValidationIssue],
                 resource_types: frozenset[str] | set[str], index: BundleIndex) -> None:
    """`resource_types`: the R4 resource type names (a fullUrl `.../Type/id` is RESTful only with one of them);
    `index`: the Bundle's `references.BundleIndex`."""
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    if bundle.get("type") in ("document", "message"):
        for i, e in enumerate(entries):
            if isinstance(e, dict) and "resource" in e and "fullUrl" not in e:
                sink.append(issue("error", "required", f"{loc}.entry[{i}]", "every entry of a "
                                   f"{bundle.get('type')} Bundle needs a fullUrl", "bundle.fullurl"))
    check_links(bundle, index, loc, sink)
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            continue
        fu, res = e.get("fullUrl"), e.get("resource")
        if isinstance(fu, str) and fu and ":" not in fu:
            sink.append(issue("error", "invalid", f"{loc}.entry[{i}]", f"The fullUrl must be an absolute URL "
                               f"(not {fu!r})", "bundle.fullurl-absolute"))
        if isinstance(fu, str) and isinstance(res, dict) and isinstance(res.get("id"), str) \
                and "://" in fu and not fu.startswith("urn:"):
            rt, rid = res.get("resourceType"), res["id"]
            parts = fu.split("/_history/")[0].rstrip("/").split("/")
            restful = len(parts) >= 2 and parts[-2] in resource_types  # base/Type/id: it must name this resource
            if restful and not (fu.endswith(f"/{rt}/{rid}") or f"/{rt}/{rid}/_history/" in fu):
                sink.append(issue("error", "invalid", f"{loc}.entry[{i}]", f"the fullUrl {fu} does not match "
                                   f"the resource id {rt}/{rid}", "bundle.fullurl-id"))
        elif isinstance(fu, str) and isinstance(res, dict) and "id" not in res and "://" in fu \
                and not fu.startswith("urn:"):
            parts = fu.split("/_history/")[0].rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] in resource_types:
                sink.append(issue("error", "invalid", f"{loc}.entry[{i}]", f"The fullUrl '{fu}' looks like a "
                                  "RESTful server URL, but the resource has no id (hint: give the resource the id "
                                  "the fullUrl ends with)", "bundle.fullurl-no-id"))
    check_search_set(bundle, loc, sink, resource_types)


_PAGING = ("first", "previous", "next", "last")
_NOT_SEARCH = frozenset({"document", "message", "collection", "subscription-notification", "transaction",
                         "transaction-response", "batch", "batch-response"})
FHIR_CSS = "https://hl7.org/fhir/fhir.css"


def check_links(bundle: dict[str, Any], index: BundleIndex, loc: str, sink: list[ValidationIssue]) -> None:
    """`Bundle.link` as the reference validator checks it, by Bundle type: a search set (or history) has each
    paging link and `self` at most once; any other Bundle has no paging links and one `self` at most; a
    document's `stylesheet` is an entry of the Bundle (`Binary/css`) or, with warnings, an external URL."""
    links = as_list(bundle.get("link"))
    btype = bundle.get("type")
    seen: set[str] = set()
    for i, link in enumerate(links):
        rel = link.get("relation") if isinstance(link, dict) else None
        if not isinstance(rel, str):
            continue
        lloc = f"{loc}.link[{i}]"
        if btype in ("searchset", "history"):
            if rel in _PAGING + ("self",) and rel in seen:
                sink.append(issue("error", "invalid", lloc, f"The link relationship type '{rel}' can only occur once",
                                  "bundle.link-unique"))
        elif btype in _NOT_SEARCH:
            if rel in _PAGING:
                sink.append(issue("error", "invalid", f"{lloc}.relation", f"The link relationship type '{rel}' used "
                                  "in search sets is prohibited in this context (hint: paging links belong to search "
                                  "sets and histories)", "bundle.link-paging"))
            if rel == "self" and rel in seen:
                sink.append(issue("error", "invalid", f"{lloc}.relation", "The link relationship type 'self' can "
                                  "only occur once", "bundle.link-unique"))
            if rel == "stylesheet" and btype == "document":
                _stylesheet(link.get("url"), index, f"{lloc}.url", sink)
        seen.add(rel)


def _stylesheet(url: Any, index: BundleIndex, loc: str, sink: list[ValidationIssue]) -> None:
    if not isinstance(url, str) or url == FHIR_CSS:
        return
    if has_scheme(url):
        sink.append(issue("warning", "business-rule", loc, f"External Stylesheets other than {FHIR_CSS} SHOULD not be "
                          "used (hint: carry the stylesheet as a Binary entry and link it as Binary/id)",
                          "bundle.stylesheet-external"))
        if url.startswith("http://"):
            sink.append(issue("warning", "business-rule", loc, "The stylesheet reference is not secure (hint: use "
                              "https)", "bundle.stylesheet-insecure"))
        return
    if url not in index.by_type_id:
        sink.append(issue("error", "not-found", loc, f"The stylesheet reference could not be resolved in this bundle "
                          f"(no entry is {url}; hint: a relative stylesheet link names an entry as Type/id)",
                          "bundle.stylesheet"))


def check_reachable(bundle: dict[str, Any], index: BundleIndex, loc: str, sink: list[ValidationIssue]) -> None:
    """Every entry of a document (message) Bundle is reachable from its first entry, the Composition
    (MessageHeader), or a document's stylesheet link -- as the reference validator checks, in its order: first
    every entry reached by following references forward; then, repeatedly, an entry not reached that refers to
    one that is (reached "backward": a warning in a document unless it is a Provenance, information in a message)
    and what it refers to; what is still not reached is an orphan (an error in a document, a warning in a message).
    `index` is the Bundle's `references.BundleIndex`, whose `links` the reference rule filled during the walk."""
    kind = bundle.get("type")
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    if kind not in ("document", "message") or len(entries) < 2:
        return
    resources = [e.get("resource") if isinstance(e, dict) else None for e in entries]
    if not isinstance(resources[0], dict):
        return
    position = {id(r): i for i, r in enumerate(resources) if isinstance(r, dict)}
    targets: dict[int, set[int]] = {i: set() for i in range(len(entries))}
    for a, b in index.links:  # (referrer, target), recorded by the reference rule while the entries were walked
        i, j = position.get(a), position.get(b)
        if i is not None and j is not None:
            targets[i].add(j)
    seen = {0}
    for link in as_list(bundle.get("link")) if kind == "document" else ():  # a stylesheet link to an entry
        url = link.get("url") if isinstance(link, dict) and link.get("relation") == "stylesheet" else None
        hit = index.by_type_id.get(url) if isinstance(url, str) else None  # (Binary/css) reaches it, as a reader
        if hit is not None and id(hit[0]) in position:
            seen.add(position[id(hit[0])])
    _forward(seen, list(seen), targets)
    root = "Composition" if kind == "document" else "MessageHeader"
    live = [i for i in range(len(entries)) if isinstance(resources[i], dict)]

    def name(i: int) -> str:
        full = entries[i].get("fullUrl")
        return full if isinstance(full, str) and full else f"{resources[i].get('resourceType')}/{resources[i].get('id')}"

    found_backward = True
    while found_backward:
        found_backward = False
        for i in live:
            if i in seen or not targets[i] & seen:
                continue
            if kind == "message":
                sink.append(issue("information", "informational", f"{loc}.entry[{i}]", f"Entry '{name(i)}' isn't "
                                  "reachable by traversing forwards from the MessageHeader. Check that this is meant to "
                                  "be included (needed to process the message)", "bundle.entry-backward"))
            elif resources[i].get("resourceType") != "Provenance":
                sink.append(issue("warning", "informational", f"{loc}.entry[{i}]", f"Entry '{name(i)}' isn't "
                                  "reachable by traversing forwards from the Composition. Only Provenance is approved "
                                  "to be used this way (R4 section 3.3.1) (hint: reference it from the Composition or "
                                  "from an entry it reaches)", "bundle.entry-backward"))
            found_backward = True
            seen.add(i)
            _forward(seen, [i], targets)
    severity, tail = ("error", f" (hint: reference it from the {root} or from an entry that is)") \
        if kind == "document" else ("warning", ", so its presence should be reviewed (is it needed to process the "
                                    "message?)")
    for i in live:
        if i not in seen:
            sink.append(issue(severity, "informational", f"{loc}.entry[{i}]", f"Entry '{name(i)}' isn't reachable by "
                              f"traversing links (forward or backward) from the {root}{tail}", "bundle.entry-orphan"))


def _forward(seen: set[int], todo: list[int], targets: dict[int, set[int]]) -> None:
    """Add to `seen` every entry reached from `todo` by following references forward."""
    while todo:
        for j in targets[todo.pop()]:
            if j not in seen:
                seen.add(j)
                todo.append(j)


def check_bundle_rules(run: RunContext, bundle: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """Validate the entries each bundle rule of the settings selects against its profile (`Settings.bundle_rules`:
    `Type`, `Type:n` -- the n-th resource of that type, from 0 -- or `n`, the n-th entry)."""
    parsed = []
    for rule, profile in run.settings.bundle_rules:
        rtype, _, index = rule.partition(":") if ":" in rule else ((None, "", rule) if rule.isdigit() else (rule, "", ""))
        if (not rtype and not index) or (index and not index.isdigit()) or \
                (rtype and rtype not in run.v.resource_types()):
            sink.append(issue("error", "invalid", loc, f"The bundle rule {rule!r} is not valid (hint: Type, Type:n or "
                              "n, with n counted from 0)", "bundle.rule"))
            continue
        parsed.append((rtype or None, int(index) if index else None, profile))
    if not parsed:
        return
    counter: dict[str, int] = {}
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    for count, e in enumerate(entries):
        res = e.get("resource") if isinstance(e, dict) else None
        rt = res.get("resourceType") if isinstance(res, dict) else None
        if not isinstance(rt, str):
            continue
        rcount = counter[rt] = counter.get(rt, -1) + 1
        for rtype, index, profile in parsed:
            if (rtype is None and index == count) or (rtype == rt and (index is None or index == rcount)):
                run.resource(res, f"{loc}.entry[{count}].resource", (profile,), requested=True, out=sink)
