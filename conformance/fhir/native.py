"""Native Python versions of the invariants found on (nearly) every element or resource.

Each function answers "does the invariant hold for this node?" for the exact R4 core
expression listed beside it; the validator only uses a native function when the constraint's
expression is that same text, so a profile reusing a key with a different expression is still
evaluated by FHIRPath. Speed matters here: `ext-1` runs on every extension, `dom-*` on every
resource, and fhirpathpy costs ~35 µs per evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Node = Any
Native = Callable[[Node, Any], bool]


def _has_value_key(node: dict[str, Any], prefix: str) -> bool:
    for k in node:
        if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper():
            return True
        if k.startswith("_" + prefix) and len(k) > len(prefix) + 1 and k[len(prefix) + 1].isupper():
            return True
    return False


def ext_1(node: Node, ctx: Any) -> bool:
    if not isinstance(node, dict):
        return True
    return bool(node.get("extension")) != _has_value_key(node, "value")


def _contained(node: Node) -> list[dict[str, Any]]:
    c = node.get("contained") if isinstance(node, dict) else None
    return [r for r in c if isinstance(r, dict)] if isinstance(c, list) else []


def dom_2(node: Node, ctx: Any) -> bool:
    return not any(r.get("contained") for r in _contained(node))


def _references(node: Any, out: set[str], skip: Any = None) -> None:
    """Every string value of a `reference` property or a '#...' canonical/uri anywhere below node."""
    if isinstance(node, dict):
        if node is skip:
            return
        for k, v in node.items():
            if isinstance(v, str):
                if k == "reference" or v.startswith("#"):
                    out.add(v)
            else:
                _references(v, out, skip)
    elif isinstance(node, list):
        for v in node:
            _references(v, out, skip)


def dom_3(node: Node, ctx: Any) -> bool:
    contained = _contained(node)
    if not contained:
        return True
    refs: set[str] = set()
    for k, v in node.items():
        if k != "contained":
            _references(v, refs)
    for r in contained:  # contained resources may reference each other
        _references(r, refs)
    for r in contained:
        rid = r.get("id")
        if f"#{rid}" in refs:
            continue
        inner: set[str] = set()
        _references(r, inner)
        if "#" in inner:
            continue
        return False
    return True


def dom_3_unmatched(node: Node) -> list[str]:
    """Ids of contained resources that dom-3 complains about (for the message)."""
    contained = _contained(node)
    if not contained:
        return []
    refs: set[str] = set()
    for k, v in node.items():
        if k != "contained":
            _references(v, refs)
    for r in contained:
        _references(r, refs)
    out = []
    for r in contained:
        inner: set[str] = set()
        _references(r, inner)
        if f"#{r.get('id')}" not in refs and "#" not in inner:
            out.append(str(r.get("id")))
    return out


def dom_4(node: Node, ctx: Any) -> bool:
    for r in _contained(node):
        meta = r.get("meta")
        if isinstance(meta, dict) and ("versionId" in meta or "lastUpdated" in meta):
            return False
    return True


def dom_5(node: Node, ctx: Any) -> bool:
    for r in _contained(node):
        meta = r.get("meta")
        if isinstance(meta, dict) and meta.get("security"):
            return False
    return True


def dom_6(node: Node, ctx: Any) -> bool:
    text = node.get("text") if isinstance(node, dict) else None
    return isinstance(text, dict) and "div" in text


def per_1(node: Node, ctx: Any) -> bool:
    from conformance.fhir.dates import compare_datetimes

    if not isinstance(node, dict):
        return True
    start, end = node.get("start"), node.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return True
    cmp = compare_datetimes(start, end)
    return cmp is not None and cmp <= 0  # FHIRPath: an undecidable comparison is empty, which fails


def _empty_or_exists(a: str, b: str) -> Native:
    def fn(node: Node, ctx: Any) -> bool:
        return not isinstance(node, dict) or a not in node or b in node
    return fn


def sqty_1(node: Node, ctx: Any) -> bool:
    return not (isinstance(node, dict) and "comparator" in node)


def _btype(node: Node) -> Any:
    return node.get("type") if isinstance(node, dict) else None


def _entries(node: Node) -> list[dict[str, Any]]:
    e = node.get("entry") if isinstance(node, dict) else None
    return [x for x in e if isinstance(x, dict)] if isinstance(e, list) else []


def bdl_1(node: Node, ctx: Any) -> bool:
    return "total" not in node or _btype(node) in ("searchset", "history")


def bdl_2(node: Node, ctx: Any) -> bool:
    return _btype(node) == "searchset" or not any("search" in e for e in _entries(node))


def bdl_3(node: Node, ctx: Any) -> bool:
    need = _btype(node) in ("batch", "transaction", "history")
    return all(("request" in e) == need for e in _entries(node))


def bdl_4(node: Node, ctx: Any) -> bool:
    need = _btype(node) in ("batch-response", "transaction-response", "history")
    return all(("response" in e) == need for e in _entries(node))


def bdl_5(node: Node, ctx: Any) -> bool:
    return not isinstance(node, dict) or "resource" in node or "request" in node or "response" in node


def bdl_7(node: Node, ctx: Any) -> bool:
    if _btype(node) == "history":
        return True
    seen = set()
    for e in _entries(node):
        if "fullUrl" not in e:
            continue
        res = e.get("resource")
        meta = res.get("meta") if isinstance(res, dict) else None
        key = (e["fullUrl"], meta.get("versionId") if isinstance(meta, dict) else None)
        if key in seen:
            return False
        seen.add(key)
    return True


def bdl_8(node: Node, ctx: Any) -> bool:
    fu = node.get("fullUrl") if isinstance(node, dict) else None
    return not isinstance(fu, str) or "/_history/" not in fu


def bdl_9(node: Node, ctx: Any) -> bool:
    if _btype(node) != "document":
        return True
    ident = node.get("identifier")
    return isinstance(ident, dict) and "system" in ident and "value" in ident


def bdl_10(node: Node, ctx: Any) -> bool:
    return _btype(node) != "document" or isinstance(node.get("timestamp"), str)


def _first_resource_type(node: Node) -> Any:
    entries = _entries(node)
    if not entries:
        return None
    res = entries[0].get("resource")
    return res.get("resourceType") if isinstance(res, dict) else None


def bdl_11(node: Node, ctx: Any) -> bool:
    return _btype(node) != "document" or _first_resource_type(node) == "Composition"


def bdl_12(node: Node, ctx: Any) -> bool:
    return _btype(node) != "message" or _first_resource_type(node) == "MessageHeader"


def txt_html(node: Node, ctx: Any) -> bool:
    from conformance.fhir.xhtml import check_xhtml

    div = node.get("div") if isinstance(node, dict) else None
    return not isinstance(div, str) or not check_xhtml(div)


def inv_1(node: Node, ctx: Any) -> bool:
    if not isinstance(node, dict):
        return True
    has_part = bool(node.get("part"))
    has_value = _has_value_key(node, "value")
    has_res = "resource" in node
    return (has_part and not has_value and not has_res) or (not has_part and (has_value != has_res))


#: (key, exact R4 expression) -> native function
NATIVE: dict[tuple[str, str], Native] = {
    ("ext-1", "extension.exists() != value.exists()"): ext_1,
    ("dom-2", "contained.contained.empty()"): dom_2,
    ("dom-4", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"): dom_4,
    ("dom-5", "contained.meta.security.empty()"): dom_5,
    ("dom-6", "text.`div`.exists()"): dom_6,
    ("per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)"): per_1,
    ("cpt-2", "value.empty() or system.exists()"): _empty_or_exists("value", "system"),
    ("qty-3", "code.empty() or system.exists()"): _empty_or_exists("code", "system"),
    ("att-1", "data.empty() or contentType.exists()"): _empty_or_exists("data", "contentType"),
    ("sqty-1", "comparator.empty()"): sqty_1,
    ("bdl-1", "total.empty() or (type = 'searchset') or (type = 'history')"): bdl_1,
    ("bdl-2", "entry.search.empty() or (type = 'searchset')"): bdl_2,
    ("bdl-3", ("entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or "
              "%resource.type = 'history'))")): bdl_3,
    ("bdl-4", ("entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
              "'transaction-response' or %resource.type = 'history'))")): bdl_4,
    ("bdl-5", "resource.exists() or request.exists() or response.exists()"): bdl_5,
    ("bdl-7", ("(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)"
              ".isDistinct()")): bdl_7,
    ("bdl-8", "fullUrl.contains('/_history/').not()"): bdl_8,
    ("bdl-9", "type = 'document' implies (identifier.system.exists() and identifier.value.exists())"): bdl_9,
    ("bdl-10", "type = 'document' implies (timestamp.hasValue())"): bdl_10,
    ("bdl-11", "type = 'document' implies entry.first().resource.is(Composition)"): bdl_11,
    ("bdl-12", "type = 'message' implies entry.first().resource.is(MessageHeader)"): bdl_12,
    ("txt-1", "htmlChecks()"): txt_html,
    ("txt-2", "htmlChecks()"): txt_html,
    ("inv-1", ("(part.exists() and value.empty() and resource.empty()) or (part.empty() and (value.exists() xor "
              "resource.exists()))")): inv_1,
}

#: invariants checked by dedicated walker rules (reported there with these keys), never by FHIRPath
WALKER_RULES = {"ele-1", "ref-1", "dom-3"}


def native_for(key: str, expression: str) -> Native | None:
    return NATIVE.get((key, expression))
