"""A generated Python function per (container, object shape): `Run._object`'s loop over an object's properties,
specialised once for one key order.

`plan.shape_of` decides, once per container and key order, whether an object is *regular* (every key a known
child under its plain name) and which key plan each property follows. `Run._object` then interprets that:
per property it unpacks a 6-tuple and branches on its mode, its format predicate and its plan's kind. All of
those are fixed for the shape, so `walker_for` writes them out as straight-line code and `compile()`s it:
what is left per property is the test of the JSON value and the call the rule needs. Each branch of the
generated code is the corresponding branch of `Run._object`, in the same order, calling the same methods with
the same arguments -- so the issues, and their order, are those of the interpreted walk
(benchmarks/identity.py compares them on ~4,000 inputs). Irregular objects, and shapes past the cap of
`plan._MAX_SHAPES` per container, still take the interpreted path.

A walker holds only definitions (elements, plans, format predicates), never an instance value: it is shared by
every run, like the shapes and plans it is derived from, and new documents with the same key orders use it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING, Any

from conformance.fhir.checks import checks_of
from conformance.fhir.primitives import QUICK_SOURCE, QUICK_VALID

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.structure import Layout

# the modes of a key plan and the kinds of a plan (plan.ARRAY / SINGLE, plan.PRIMITIVE / COMPLEX: plan imports this
# module; tests/fhir/test_codegen.py checks they agree)
_ARRAY, _SINGLE = 0, 1
_PRIMITIVE, _COMPLEX = 0, 2

Walker = Callable[..., "bool | None"]

#: a shape's walker is generated at its COMPILE_AFTER-th object: compile() costs about 0.5 ms (10 us a line; less
#: when another container's shape gave the same text), a generated walk about 1 us less per object than the
#: interpreted loop, and a third of the shapes of a bundle occur once or twice. Measured on the 34 bundles, cold:
#: compiling every shape at its first object made the first pass 250 ms slower, at its 8th about 0.1 s slower
#: than before the walkers (0.47-0.51 s -> 0.59-0.65 s, benchmarks/README.md), while later passes get most of the gain
COMPILE_AFTER = 8

#: compiled walker sources: shapes of different containers often give the same text (the same modes in the same
#: order); only the names they are run with differ. Depends on nothing but the text.
_CODE: dict[str, CodeType] = {}
_MAX_CODE = 4096


class Pending:
    """The walker slot of a shape until it has been met COMPILE_AFTER times: each call counts and returns True
    ("not handled: interpret it"); the last one generates the walker, puts it in the shape in place of itself,
    runs it and returns None ("handled"), as a generated walker does."""

    __slots__ = ("left", "lay", "order", "args")

    def __init__(self, lay: Layout, order: tuple[str, ...], args: tuple[Any, ...]) -> None:
        self.left = COMPILE_AFTER
        self.lay, self.order, self.args = lay, order, args

    def __call__(self, run: Any, obj: dict[str, Any], *rest: Any) -> bool | None:
        self.left -= 1
        if self.left > 0:
            return True
        walker = walker_for(self.lay, *self.args)
        shape = self.lay.shapes.get(self.order)
        if shape is not None and shape[6] is self:
            self.lay.shapes[self.order] = (*shape[:6], walker)
        walker(run, obj, *rest)
        return None


def _call(plan: Any) -> str:
    """The method a value of this plan goes to: `Run._planned` does nothing but call `_primitive` for a primitive."""
    return "_primitive" if plan.kind == _PRIMITIVE else "_planned"


def _quick_test(ns: dict[str, Any], i: int, tcode: str, quick: Any) -> str:
    """The format test of key i on `v`: the type's `primitives.QUICK_SOURCE` written out (its names bound as
    `Q{i}_name`), or a call of the predicate when it is not that type's."""
    if quick is not QUICK_VALID.get(tcode):
        return f"Q{i}(v)"
    text, names = QUICK_SOURCE[tcode]
    for name, obj in names.items():
        ns[f"Q{i}_{name}"] = obj
    return text.format(**{name: f"Q{i}_{name}" for name in names})


def _value_lines(ns: dict[str, Any], i: int, plan: Any, tcode: str, quick: Any, value: str, at: str,
                 pad: int) -> list[str]:
    """The code checking one value of key i (`value`, located at the expression `at`), indented by `pad`:
    the same for a single value and for each item of an array. A format-only primitive takes the quick test
    (on `v`) first."""
    p = " " * pad
    if quick is not None:
        return [f"{p}if not ({_quick_test(ns, i, tcode, quick)}):",
                f"{p}    run._primitive({value}, None, C{i}, T{i}, P{i}, {at}, sink)"]
    if plan.kind != _COMPLEX:
        return [f"{p}run.{_call(plan)}({value}, None, C{i}, T{i}, P{i}, {at}, sink)"]
    _inner(ns, i, plan)
    lines = [f"{p}if type({value}) is dict:", f"{p}    {_object_call(i, value, at, pad + 4)}"]
    if plan.post:
        lines.append(f"{p}    run._complex_rules({value}, C{i}, T{i}, P{i}, {at}, sink)")
    return [*lines, f"{p}else:", f"{p}    run._planned({value}, None, C{i}, T{i}, P{i}, {at}, sink)"]


def _inner(ns: dict[str, Any], i: int, plan: Any) -> None:
    """The names the code of `_object_call` uses for key i: the container its object value is walked with, that
    container's shapes, the plan's invariants."""
    inner = plan.container
    ns[f"I{i}"], ns[f"X{i}"] = inner, plan.checks
    ns[f"S{i}"] = (inner._layout or inner.layout()).shapes


def _object_call(i: int, value: str, vloc: str, indent: int) -> str:
    """`run._object(value, ...)` for an object value of key i, with `Run._object`'s first steps done here: when the
    value's shape has a walker already, the walker is called directly (a Pending one that declines -- returns
    True -- is counted again by `_object`, which then interprets the value)."""
    pad = " " * indent
    return (f"sh = S{i}.get(tuple({value}))\n"
            f"{pad}if sh is None or sh[0] or sh[6] is None or sh[6](run, {value}, C{i}, I{i}, T{i}, {vloc}, sink, None, "
            f"X{i}) is not None:\n"
            f"{pad}    run._object({value}, C{i}, I{i}, T{i}, {vloc}, sink, False, None, X{i})")


def walker_for(lay: Layout, kps: tuple[Any, ...], is_resource: bool, has_id: bool, hosting: bool, itself: bool,
               required_ok: bool) -> Walker:
    """The generated walk of a regular object of one shape: called as
    `walker(run, obj, elem, container, type_code, loc, sink, host, checks)` in place of `Run._object`'s body;
    returns None (the object is done)."""
    ns: dict[str, Any] = {"LAY": lay, "checks_of": checks_of, "IS_RESOURCE": is_resource}
    out = ["def walk(run, obj, elem, container, type_code, loc, sink, host, checks):"]
    emit = out.append
    names = [f"v{i}" for i in range(len(kps))]
    if len(names) == 1:
        emit(f"    {names[0]}, = obj.values()")
    elif names:
        emit(f"    {', '.join(names)} = obj.values()")
    if has_id and not is_resource:
        emit("    if run.element_ids and type_code != 'ElementDefinition':")
        emit("        run._element_id(obj['id'], loc, sink)")
    if hosting:
        emit("    run.hosts.append((host or elem, type_code, obj))")
    if itself:
        emit("    run._object_itself(obj, loc, sink, IS_RESOURCE)")
    for i, kp in enumerate(kps):
        if kp is None:
            continue  # a resource's resourceType
        key, child, tcode, plan, mode, quick = kp
        v = names[i]
        ns.update({f"K{i}": key, f"D{i}": "." + key, f"C{i}": child, f"T{i}": tcode, f"P{i}": plan, f"Q{i}": quick})
        general = f"run._child(C{i}, [(K{i}, {v}, None)], LAY.keymap, loc, sink)"
        if mode == _SINGLE:
            emit(f"    if not isinstance({v}, list):")
            if child.max == 0:
                emit(f"        run._cardinality(C{i}, 1, loc, sink)")
            if quick is not None:
                emit(f"        v = {v}")
            for line in _value_lines(ns, i, plan, tcode, quick, "v" if quick is not None else v, f"loc + D{i}", 8):
                emit(line)
            emit("    else:")
            emit(f"        {general}")
        elif mode == _ARRAY:
            emit(f"    if isinstance({v}, list) and {v}:")
            bounds = [f"n < {child.min}"] if child.min > 1 else []  # n >= 1 here: a min of 0 or 1 always holds
            if child.max is not None:
                bounds.append(f"n > {child.max}")
            if bounds:
                emit(f"        n = len({v})")
                emit(f"        if {' or '.join(bounds)}:")
                emit(f"            run._cardinality(C{i}, n, loc, sink)")
            item = "v" if quick is not None else "x"
            emit(f"        for j, {item} in enumerate({v}):")
            at = f"f'{{loc}}{{D{i}}}[{{j}}]'"
            if quick is None and plan.kind == _COMPLEX:
                emit(f"            vloc = {at}")
                at = "vloc"
            for line in _value_lines(ns, i, plan, tcode, quick, item, at, 12):
                emit(line)
            emit("    else:")
            emit(f"        {general}")
        else:  # sliced
            emit(f"    {general}")
    if not required_ok:
        emit("    run._missing_required(obj, container, LAY, loc, sink)")
    emit("    if checks is None:")
    emit("        checks = checks_of(elem, container)")
    emit("    if checks:")
    emit("        run._constraints(checks, obj, elem, type_code, loc, sink, IS_RESOURCE)")
    if hosting:
        emit("    run.hosts.pop()")
    source = "\n".join(out)
    code = _CODE.get(source)
    if code is None:
        if len(_CODE) >= _MAX_CODE:
            _CODE.clear()
        code = _CODE[source] = compile(source, "<walker>", "exec")
    exec(code, ns)  # noqa: S102 - our own generated source, built from definitions only
    return ns["walk"]  # type: ignore[no-any-return]
