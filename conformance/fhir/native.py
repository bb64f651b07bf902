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
    elif isinstance(node, str) and node.startswith("#"):  # a top-level canonical: QuestionnaireResponse.questionnaire
        out.add(node)


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
        if isinstance(key[0], (dict, list)) or isinstance(key[1], (dict, list)):
            key = ("not-a-string", repr(key))  # a wrong JSON type (reported by the type check) must not crash this
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

# -- guarded natives: decide the common shapes, return None to hand anything unusual to fhirpathpy ----------------
# fhirpathpy's answers on odd shapes (a `_x` primitive extension, null, a list where one value is expected,
# a wrong JSON type) include engine errors that are reported as "not evaluated"; reproducing them here would be
# fragile, so these functions only answer where the FHIRPath result is plain, and defer everywhere else.
_UCUM = "http://unitsofmeasure.org"
_CONDITION_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_TIM_9_WHEN = frozenset({"C", "CM", "CD", "CV"})


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _plain(node: dict[str, Any], *names: str) -> bool:
    """No primitive extension (`_name`) on any of `names`: fhirpathpy would merge it into the value."""
    return not any("_" + n in node for n in names)


def _absent_or(node: dict[str, Any], name: str, test: Callable[[Any], bool]) -> bool:
    return name not in node or test(node[name])


def _list_of_dicts(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, dict) for x in v)


def _str(v: Any) -> bool:
    return isinstance(v, str)


def tim_9(node: Node, ctx: Any) -> bool | None:
    if not isinstance(node, dict) or not _plain(node, "offset", "when"):
        return None
    # fhirpathpy evaluates both sides of `or`: `when in (...)` must be decidable even when offset is absent
    if not (_absent_or(node, "offset", _number) and _absent_or(
            node, "when", lambda w: isinstance(w, list) and len(w) == 1 and isinstance(w[0], str))):
        return None
    if "offset" not in node:
        return True
    return "when" in node and node["when"][0] not in _TIM_9_WHEN


def _non_negative(name: str) -> Callable[[Node, Any], bool | None]:
    """`name.exists() implies name >= 0` (tim-4, tim-5)."""
    def fn(node: Node, ctx: Any) -> bool | None:
        if not isinstance(node, dict) or not _plain(node, name):
            return None
        if name not in node:
            return True
        v = node[name]
        return v >= 0 if _number(v) else None
    return fn


def drt_1(node: Node, ctx: Any) -> bool | None:
    if not isinstance(node, dict) or not _plain(node, "code", "system", "value"):
        return None
    if not (_absent_or(node, "code", _str) and _absent_or(node, "system", _str)
            and _absent_or(node, "value", _number)):
        return None
    if "code" not in node:
        return True
    # no system: `system = %ucum` is empty, and so is the whole expression (an empty result fails)
    return node.get("system") == _UCUM and "value" in node


def org_1(node: Node, ctx: Any) -> bool | None:
    if not isinstance(node, dict) or not _plain(node, "name"):
        return None
    if not (_absent_or(node, "identifier", _list_of_dicts) and _absent_or(node, "name", _str)):
        return None
    return len(node.get("identifier", ())) + ("name" in node) > 0


def bdl_ips_1(node: Node, ctx: Any) -> bool | None:
    if not isinstance(node, dict):
        return None
    if "entry" not in node:
        return True
    entries = node["entry"]
    if not _list_of_dicts(entries):
        return None
    for e in entries[1:]:
        if "resource" not in e:
            continue
        res = e["resource"]
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            return None
        if res["resourceType"] == "Composition":
            return False
    return True


def _clean_coding(c: dict[str, Any]) -> bool:
    return _plain(c, "system", "code") and _absent_or(c, "system", _str) and _absent_or(c, "code", _str)


def con_3(node: Node, ctx: Any) -> bool | None:
    if not isinstance(node, dict):
        return None
    vs = node.get("verificationStatus", {})
    if not (_absent_or(node, "clinicalStatus", lambda v: isinstance(v, dict)) and isinstance(vs, dict)
            and _absent_or(vs, "coding", lambda cs: _list_of_dicts(cs) and all(_clean_coding(c) for c in cs))
            and _absent_or(node, "category", _list_of_dicts)):
        return None
    if "clinicalStatus" in node:
        return True
    if any(c.get("system") == _CONDITION_VER_STATUS and c.get("code") == "entered-in-error"
           for c in vs.get("coding", ())):
        return True
    # `$this = 'problem-list-item'` compares a CodeableConcept with a string: false, never empty, so
    # select() is empty only when there is no category at all
    return not node.get("category")


def obs_7(node: Node, ctx: Any) -> bool | None:
    if not isinstance(node, dict):
        return None
    if "component" not in node:
        return True
    resources = getattr(ctx, "resources", None)
    if not resources or resources[-1][0] is not node:
        return None  # %resource is not this node: leave it to fhirpathpy
    components = node["component"]
    if not _list_of_dicts(components) or not all(
            _absent_or(c, "code", lambda cc: isinstance(cc, dict) and _absent_or(cc, "coding", _list_of_dicts))
            for c in components):
        return None
    code = node.get("code", {})
    if not isinstance(code, dict):
        return None
    mine = code.get("coding", [])
    if not _list_of_dicts(mine):
        return None
    # fhirpathpy's intersect compares codings as plain dicts (ResourceNode.__eq__): so does this
    for c in components:
        theirs = c.get("code", {}).get("coding", [])
        if any(a == b for a in theirs for b in mine):
            return None  # a component repeats the code: the verdict now hangs on value.empty(); ask fhirpathpy
    return True


#: (key, exact R4/IPS expression) -> guarded native function (True/False, or None: evaluate with fhirpathpy)
GUARDED: dict[tuple[str, str], Callable[[Node, Any], bool | None]] = {
    ("tim-9", "offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))"): tim_9,
    ("tim-4", "duration.exists() implies duration >= 0"): _non_negative("duration"),
    ("tim-5", "period.exists() implies period >= 0"): _non_negative("period"),
    ("drt-1", "code.exists() implies ((system = %ucum) and value.exists())"): drt_1,
    ("org-1", "(identifier.count() + name.count()) > 0"): org_1,
    ("bdl-ips-1", "entry.tail().where(resource is Composition).empty()"): bdl_ips_1,
    ("con-3", ("clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology.hl7.org/"
               "CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or category.select($this="
               "'problem-list-item').empty()")): con_3,
    ("obs-7", ("value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists())"
               ".empty()")): obs_7,
}

#: invariants checked by dedicated walker rules (reported there with these keys), never by FHIRPath
WALKER_RULES = {"ele-1", "ref-1", "dom-3"}


def native_for(key: str, expression: str) -> Native | None:
    return NATIVE.get((key, expression))
