"""FHIRPath as the reference validator evaluates it on R4 content, where fhirpathpy 2.2.4 differs.

Two differences change invariant verdicts:

- **A primitive and its extensions are one node.** fhirpathpy turns `line: ["Aue 1"]` with
  `_line: [{extension: [...]}]` into two nodes (the string, then the extension object), so
  `line[0].extension(...)` is empty, `line.count()` is 2 and `line.all($this.extension(x).empty() or
  $this.hasValue())` fails on the second node. Here the value carries its `_` object: `extension`
  and `id` are read from it, the value stays the value. A primitive with extensions and no value is
  still the extension object (it exists, `hasValue()` is false).
- **Type names are not case sensitive before R5, and `as` does not insist on one item** (the
  reference validator's FHIRPath engine relaxes both for R4: `value as String` matches a FHIR `string`).

fhirpathpy has no hook for either, so `install()` wraps its member-access evaluator and its
`extension`, `is`, `as` and `ofType` functions once; the wrappers behave as fhirpathpy does unless the
evaluation runs inside `r4_semantics()`, which `invariants.FhirPath` uses around its own calls only.
"""

from __future__ import annotations

import importlib
from collections import abc
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fhirpathpy.engine import nodes as _nodes
from fhirpathpy.engine import util as _util

# the modules themselves (`fhirpathpy.engine` rebinds the names `evaluators`/`invocations` to their tables)
_evaluators = importlib.import_module("fhirpathpy.engine.evaluators")
_invocations = importlib.import_module("fhirpathpy.engine.invocations")

_ACTIVE: ContextVar[bool] = ContextVar("conformance_fhirpath_r4", default=False)
_installed = False


@contextmanager
def r4_semantics() -> Iterator[None]:
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


# -- one node per primitive ---------------------------------------------------------------------
def _member_reducer(model: Any, key: str) -> Any:
    original = _ORIGINAL_REDUCER(model, key)

    def func(acc: list[Any], res: Any) -> list[Any]:
        node = _nodes.ResourceNode.create_node(res)
        data = node.data
        if not isinstance(data, abc.Mapping):
            own = node._data
            if isinstance(own, abc.Mapping) and key in ("extension", "id") and key in own:
                value = own[key]
                path = "Extension" if key == "extension" else "string"
                items = value if isinstance(value, list) else [value]
                acc = acc + [_nodes.ResourceNode.create_node(x, path) for x in items if x is not None]
            return original(acc, res) if not isinstance(own, abc.Mapping) else acc
        child_path = f"{node.path}.{key}" if node.path else f"_.{key}"
        if isinstance(model, dict):
            child_path = model["pathsDefinedElsewhere"].get(child_path, child_path)
            fields = [key + t for t in model["choiceTypePaths"].get(child_path) or ()] or [key]
        else:
            fields = [key]
        field = next((f for f in fields if f in data or f"_{f}" in data), None)
        if field is None or field not in data or f"_{field}" not in data:
            return original(acc, res)  # nothing to pair: fhirpathpy's own answer
        if field != key:
            child_path += field[len(key):]
        if isinstance(model, dict) and "path2Type" in model:
            child_path = model["path2Type"].get(child_path, child_path)
        full = (f"{node.propName}.{key}" if node.propName else child_path).replace("_", "")
        values, exts = data[field], data[f"_{field}"]
        if not isinstance(values, list) and not isinstance(exts, list):
            pairs = [(values, exts, full, None)]
        else:
            values = values if isinstance(values, list) else [values]
            exts = exts if isinstance(exts, list) else [exts]
            pairs = [(values[i] if i < len(values) else None, exts[i] if i < len(exts) else None, f"{full}[{i}]", i)
                     for i in range(max(len(values), len(exts)))]
        out = []
        for value, ext, prop, index in pairs:
            if value is not None:
                out.append(_nodes.ResourceNode(value, child_path, ext if isinstance(ext, abc.Mapping) else None,
                                               prop, index))
            elif ext is not None:
                out.append(_nodes.ResourceNode.create_node(ext, child_path, propName=prop, index=index))
        return acc + out

    return func


def _reducer(model: Any, key: str) -> Any:
    return (_member_reducer if _ACTIVE.get() else _ORIGINAL_REDUCER)(model, key)


def _extension(ctx: Any, data: list[Any], url: str) -> list[Any]:
    if not _ACTIVE.get():
        return _ORIGINAL["extension"](ctx, data, url)
    out = []
    for d in data:
        element = _util.get_data(d)
        if not isinstance(element, abc.Mapping) and isinstance(d, _nodes.ResourceNode):
            element = d._data
        if isinstance(element, abc.Mapping):
            found = [e for e in element.get("extension") or () if isinstance(e, dict) and e.get("url") == url]
            if found:
                out.append(_nodes.ResourceNode.create_node(found[0], "Extension"))
    return out


# -- type names before R5 -----------------------------------------------------------------------
def _is_type(ctx: Any, value: Any, type_info: Any) -> bool:
    _nodes.TypeInfo.model = ctx.get("model")
    info = _nodes.TypeInfo.from_value(value)
    if info is None:
        return False
    if info.is_(type_info):
        return True
    return isinstance(info.name, str) and isinstance(getattr(type_info, "name", None), str) \
        and info.name.lower() == type_info.name.lower()


def _is(ctx: Any, coll: list[Any], type_info: Any) -> list[bool]:
    if not _ACTIVE.get():
        return _ORIGINAL["is"](ctx, coll, type_info)
    if not coll:
        return []
    if len(coll) > 1:
        return [False]
    return [_is_type(ctx, coll[0], type_info)]


def _as(ctx: Any, coll: list[Any], type_info: Any) -> list[Any]:
    if not _ACTIVE.get():
        return _ORIGINAL["as"](ctx, coll, type_info)
    return [v for v in coll if _is_type(ctx, v, type_info)]


def _of_type(ctx: Any, coll: list[Any], type_info: Any) -> list[Any]:
    if not _ACTIVE.get():
        return _ORIGINAL["ofType"](ctx, coll, type_info)
    return [v for v in coll if _is_type(ctx, v, type_info)]


_ORIGINAL_REDUCER = _evaluators.create_reduce_member_invocation
_ORIGINAL = {name: _invocations.invocation_registry[name]["fn"] for name in ("extension", "is", "as", "ofType")}
_ORIGINAL["is"] = _invocations.invocation_registry["isOp"]["fn"]
_ORIGINAL["as"] = _invocations.invocation_registry["asOp"]["fn"]


def install() -> None:
    """Wrap fhirpathpy's functions once (inactive outside `r4_semantics()`)."""
    global _installed
    if _installed:
        return
    _evaluators.create_reduce_member_invocation = _reducer
    registry = _invocations.invocation_registry
    registry["extension"]["fn"] = _extension
    for name in ("is", "isOp"):
        registry[name]["fn"] = _is
    for name in ("as", "asOp"):
        registry[name]["fn"] = _as
    registry["ofType"]["fn"] = _of_type
    _installed = True
