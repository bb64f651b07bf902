"""Where things are in the input: line:column for issue locations, and document order for sorting.

`json_positions` scans FHIR JSON text once (only when there are issues to place) and maps every
property and array item to the line:column where it starts, keyed by the same FHIRPath-style
path the validator reports (`.entry[3].resource.code`, the root resource type left out). The XML
reader builds the same map while parsing. `place` gives an issue location its line:column,
falling back to the nearest enclosing element the map knows (a location such as `...value[x]`).
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

Positions = dict[str, tuple[int, int]]

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def json_positions(text: str | bytes) -> Positions:
    """Path -> (line, column), both 1-based, for every property (at its key) and array item (at its start)."""
    text = _text(text)
    return _to_lines(text, _scan(text)[0])


def json_duplicate_keys(text: str | bytes) -> list[tuple[str, int, int]]:
    """(path, line, column) of every property that repeats a key of its object (the second and later copies)."""
    text = _text(text)
    dups = _scan(text)[1]
    where = _to_lines(text, {f"{path}#{n}": off for n, (path, off) in enumerate(dups)})
    return [(path, *where[f"{path}#{n}"]) for n, (path, _off) in enumerate(dups)]


def has_duplicate_keys(text: str | bytes, parsed: Any) -> bool:
    """Might the JSON text hold more properties than the object parsed from it (a JSON reader keeps one copy of a
    repeated key)? The keys of the text are counted as the quotes followed by a colon, less the escaped ones (a
    quote inside a string is always escaped), with C-speed byte counts, against the keys of the parsed object. Any
    difference -- a duplicate, or a layout this count does not foresee -- sends the text to `json_duplicate_keys`,
    which reads it token by token and has the last word."""
    data = text.encode() if isinstance(text, str) else text
    in_text = data.count(b'":') + data.count(b'" :') - data.count(b'\\":') - data.count(b'\\" :')
    return in_text != _key_count(parsed)


def _key_count(o: Any) -> int:
    n = 0
    if type(o) is dict:
        n = len(o)
        for v in o.values():
            t = type(v)
            if t is dict or t is list:
                n += _key_count(v)
    elif type(o) is list:
        for v in o:
            t = type(v)
            if t is dict or t is list:
                n += _key_count(v)
    return n


def _text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return " " + text[1:] if text.startswith("\ufeff") else text


def _scan(text: str) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """One pass over the tokens: the offset where each path starts, and the repeated keys (path, offset)."""
    offsets: dict[str, int] = {}
    dups: list[tuple[str, int]] = []
    # stack frames: [is_object, path, key or index, expecting_key, keys seen (objects)]
    stack: list[list[Any]] = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        c = tok[0]
        if c in ",:":
            if stack:
                top = stack[-1]
                if c == ",":
                    if top[0]:
                        top[3] = True
                    else:
                        top[2] += 1
            continue
        if c in "}]":
            if stack:
                stack.pop()
            continue
        if stack:
            top = stack[-1]
            if top[0]:
                if top[3]:  # a key
                    try:
                        key = json.loads(tok)
                    except ValueError:
                        key = tok.strip('"')
                    top[2] = key
                    top[3] = False
                    kpath = f"{top[1]}.{key}"
                    if key in top[4]:
                        dups.append((kpath, m.start()))
                    else:
                        offsets.setdefault(kpath, m.start())
                    top[4].add(key)
                    continue
                path = f"{top[1]}.{top[2]}"
            else:
                path = f"{top[1]}[{top[2]}]"
                offsets.setdefault(path, m.start())
        else:
            path = ""
            offsets.setdefault(path, m.start())
        if c == "{":
            stack.append([True, path, None, True, set()])
        elif c == "[":
            stack.append([False, path, 0, False, None])
    return offsets, dups


def _to_lines(text: str, offsets: dict[str, int]) -> Positions:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out: Positions = {}
    for path, off in offsets.items():
        i = bisect.bisect_right(starts, off) - 1
        out[path] = (i + 1, off - starts[i] + 1)
    return out


_SEGMENT = re.compile(r"\.[^.\[]+|\[\d+\]")


_ROOT_NAME = re.compile(r"[A-Za-z$][\w$]*")


def relative_path(location: str) -> str:
    """`Bundle.entry[0].resource` -> `.entry[0].resource` (the root resource type dropped)."""
    m = _ROOT_NAME.match(location)
    return location[m.end():] if m else location


def place(location: str, positions: Positions) -> tuple[int, int]:
    """The line:column of an issue location, or of its nearest enclosing element the map knows; (0, 0) when none."""
    path = relative_path(location)
    while True:
        hit = positions.get(path)
        if hit is not None:
            return hit
        if not path:
            return (0, 0)
        segs = _SEGMENT.findall(path)
        if not segs:
            return positions.get("", (0, 0))
        path = path[: len(path) - len(segs[-1])] if path.endswith(segs[-1]) else ""


def document_order(location: str, root: Any, cache: dict[int, dict[str, int]] | None = None,
                   prefixes: dict[str, tuple[tuple[int, ...], Any, bool]] | None = None) -> tuple[int, ...]:
    """A sort key putting issue locations in document order, read off the (insertion-ordered) JSON object:
    per step the index of the property among its object's keys, or the array index. No text needed.
    `cache` keeps each object's key positions across calls (one sort of many issues); `prefixes` keeps the
    key of each location prefix met, so the many issues under one entry walk its path once."""
    if cache is None:
        cache = {}
    rel = relative_path(location)
    if prefixes is None:
        return _order_steps(_SEGMENT.findall(rel), (), root, cache)
    return _order_prefix(rel, root, cache, prefixes)[0]


def _order_prefix(rel: str, root: Any, cache: dict[int, dict[str, int]],
                  prefixes: dict[str, tuple[tuple[int, ...], Any, bool]]) -> tuple[tuple[int, ...], Any, bool]:
    """(key, node reached, stopped) for a relative path, from its parent's (memoised). The last segment is the
    one `_SEGMENT.findall` would give last: `[digits]` at the end, else the text after the last '.' when no '['
    follows it; any other ending is read the long way. Up the path to the longest prefix already known (or
    the root, or a prefix read the long way), then down again, memoising every prefix met."""
    hit = prefixes.get(rel)
    if hit is not None:
        return hit
    down: list[tuple[str, int]] = []  # (prefix, where its last segment starts), innermost first
    cur = rel
    while True:
        if not cur:
            hit = prefixes[cur] = ((), root, False)
            break
        cut = -1
        if cur[-1] == "]":
            b = cur.rfind("[")
            if b >= 0 and cur[b + 1:-1].isdecimal():
                cut = b
        else:
            d = cur.rfind(".")
            if d >= 0 and d < len(cur) - 1 and cur.find("[", d) < 0:
                cut = d
        if cut < 0:  # not a prefix any memoised path extends in the fast way
            hit = prefixes[cur] = (_order_steps(_SEGMENT.findall(cur), (), root, cache), None, True)
            break
        down.append((cur, cut))
        cur = cur[:cut]
        hit = prefixes.get(cur)
        if hit is not None:
            break
    for path, cut in reversed(down):
        key, node, stopped = hit
        if stopped:
            hit = (key, None, True)
        else:
            seg = path[cut:]
            if seg[0] == "[":
                i = int(seg[1:-1])
                node = node[i] if isinstance(node, list) and i < len(node) else None
                hit = ((*key, i), node, False)
            elif not isinstance(node, dict):
                hit = ((*key, _LAST), None, True)
            else:
                idx = _key_index(node, seg[1:], cache)
                hit = ((*key, idx), node.get(seg[1:]) if idx < _LAST else None, False)
        prefixes[path] = hit
    return hit


def _key_index(node: dict[str, Any], name: str, cache: dict[int, dict[str, int]]) -> int:
    """The position of property `name` among `node`'s keys, `_name` counting as `name` (the first of the two)."""
    positions = cache.get(id(node))
    if positions is None:
        if node and min(node) >= "`":  # no key starts with '_' (or anything below '`'): keys are unique
            positions = cache[id(node)] = dict(zip(node, range(len(node))))
        else:
            positions = cache[id(node)] = {}
            for n, k in enumerate(node):
                positions.setdefault(k[1:] if k[:1] == "_" else k, n)
    return positions.get(name, _LAST)


def _order_steps(segs: list[str], start: tuple[int, ...], node: Any, cache: dict[int, dict[str, int]]) -> tuple[int, ...]:
    key = list(start)
    for seg in segs:
        if seg[0] == "[":
            i = int(seg[1:-1])
            key.append(i)
            node = node[i] if isinstance(node, list) and i < len(node) else None
            continue
        if not isinstance(node, dict):
            key.append(_LAST)
            break
        idx = _key_index(node, seg[1:], cache)
        key.append(idx)
        node = node.get(seg[1:]) if idx < _LAST else None
    return tuple(key)


_LAST = 1 << 30
