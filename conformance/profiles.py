"""Load requirement profiles (YAML), validate them, resolve `extends`.

Why this module is strict: a profile is the yardstick of a certification, so a
typo must never silently drop or weaken a requirement. Every problem becomes a
`ProfileError` naming the file, the 1-based line (from the composed YAML node
tree, not from a re-parse guess), the field path and a fix hint ("did you mean").

Resolution rules (documented for profile authors in profiles/README.md):

* a profile file is named ``<id>.yaml``; ids are looked up in the directory of
  the extending file, the extra search dirs, and the shipped profiles dir;
  the same id in two places with different bytes is an error;
* ``extends`` is resolved recursively: parents' requirements first (in the
  order listed), then the profile's own; a requirement inherited twice through
  a diamond (same declaring profile) is kept once; an id declared by two
  different profiles, or twice in one file, is an error naming both places;
* ``Profile.sha256`` is the sha256 of a manifest with one line
  ``<sha256 of file bytes>  <file name>\\n`` per file (the profile itself, then
  its ancestors depth-first in ``extends`` order, each once), i.e. exactly what
  ``sha256sum self.yaml parent1.yaml ... | sha256sum`` prints.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from conformance.suggest import did_you_mean
from conformance.errors import ProfileError
from conformance.model import Category, Level, Profile, Reference, Requirement
from conformance.resources import profiles_dir

__all__ = [
    "all_requirements",
    "available_profiles",
    "clear_cache",
    "load_profile",
    "load_schema",
    "schema_path",
]

PROFILE_SUFFIXES = (".yaml", ".yml")

Pointer = tuple[Any, ...]


# ---------------------------------------------------------------- schema


def schema_path() -> Path:
    return profiles_dir() / "schema" / "profile.schema.json"


@cache
def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every profile file must satisfy."""
    return json.loads(schema_path().read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Source:
    """A parsed profile file: its bytes, its data, and the line of every node."""

    path: Path
    raw: bytes
    data: Any
    key_lines: dict[Pointer, int]  # line of the key (or list item) that introduces a node
    value_lines: dict[Pointer, int]  # line where a node's value starts

    def line(self, ptr: Pointer, *, key: bool = False) -> int:
        """Line of `ptr`, or of its nearest ancestor that exists in the file."""
        table = self.key_lines if key else self.value_lines
        while ptr:
            if ptr in table:
                return table[ptr]
            if ptr in self.value_lines:
                return self.value_lines[ptr]
            ptr = ptr[:-1]
        return self.value_lines.get((), 1)

    def error(self, message: str, ptr: Pointer = (), *, key: bool = False, hint: str | None = None) -> ProfileError:
        return ProfileError(message, path=str(self.path), line=self.line(ptr, key=key),
                            field=_fmt(ptr) if ptr else None, hint=hint)


def _fmt(ptr: Pointer) -> str:
    """('requirements', 3, 'level') -> 'requirements[3].level'."""
    out = ""
    for part in ptr:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _index(node: yaml.Node, ptr: Pointer, src_path: Path, keys: dict[Pointer, int], values: dict[Pointer, int]) -> None:
    values[ptr] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:  # PyYAML keeps the last one silently; a profile must not
                raise ProfileError(f"key '{key}' appears twice in one mapping (lines {seen[key]} and {line})",
                                   path=str(src_path), line=line, field=_fmt(ptr + (key,)),
                                   hint="remove or merge one of them")
            seen[key] = line
            keys[ptr + (key,)] = line
            _index(value_node, ptr + (key,), src_path, keys, values)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            keys[ptr + (i,)] = item.start_mark.line + 1
            _index(item, ptr + (i,), src_path, keys, values)


def _parse(path: Path) -> _Source:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"cannot read profile: {exc.strerror or exc}", path=str(path)) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError(f"profile is not UTF-8 text (byte {exc.start})", path=str(path),
                           hint="save the file as UTF-8") from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = "; ".join(x for x in (exc.context, exc.problem) if x)
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            problem += f" (the construct opened on line {exc.context_mark.line + 1})"
        raise ProfileError(f"invalid YAML: {problem}", path=str(path), line=mark.line + 1 if mark else None,
                           hint="check indentation, ':' after keys and quoting of values containing ': ' or '#'"
                           ) from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"invalid YAML: {exc}", path=str(path)) from exc
    finally:
        loader.dispose()
    keys: dict[Pointer, int] = {}
    values: dict[Pointer, int] = {}
    if node is not None:
        _index(node, (), path, keys, values)
    return _Source(path=path, raw=raw, data=data, key_lines=keys, value_lines=values)


# ---------------------------------------------------------------- validation

_PATTERN_HINTS = {
    "id": "profile ids are lower-case words joined by '-', e.g. ehds-core",
    "version": 'use a semantic version in quotes, e.g. version: "1.0.0"',
    "extends": "profile ids are lower-case words joined by '-', e.g. ehds-core",
    "fhir_packages": "write name#version, e.g. hl7.fhir.uv.ips#2.0.0",
    "url": "use an absolute http(s) URL without spaces",
}
_REQ_ID_HINT = "requirement ids are upper-case words and numbers joined by '-', e.g. EHDS-LOG-001 or FR-001"
_JSON_TYPES = {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}


def _suggest(value: Any, choices: Sequence[str], cutoff: float = 0.6) -> str | None:
    """Closest choice, case-insensitively (so 'shall' suggests 'SHALL'): the project's one did-you-mean."""
    return did_you_mean(value, choices, cutoff=cutoff)


def _context(data: Any, ptr: Pointer) -> str:
    """' in requirement EHDS-LOG-001' when the problem sits inside a requirement with a readable id."""
    if len(ptr) >= 2 and ptr[0] == "requirements" and isinstance(ptr[1], int) and isinstance(data, dict):
        reqs = data.get("requirements")
        if isinstance(reqs, list) and ptr[1] < len(reqs) and isinstance(reqs[ptr[1]], dict):
            rid = reqs[ptr[1]].get("id")
            if isinstance(rid, str) and rid:
                return f" in requirement {rid}"
    return ""


_Problem = tuple[str, Pointer, bool, "str | None"]  # message, where, point at the key?, hint


def _explain(err: ValidationError, src: _Source) -> _Problem:
    """Turn one jsonschema error into a located, actionable problem."""
    ptr: Pointer = tuple(err.absolute_path)
    where = _context(src.data, ptr)
    kind, inst = err.validator, err.instance
    if kind == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = next(k for k in inst if k not in allowed)
        close = _suggest(extra, allowed)
        hint = f"did you mean '{close}'?" if close else f"allowed keys here: {', '.join(allowed)}"
        return f"unknown key '{extra}'{where}", ptr + (extra,), True, hint
    if kind == "required":
        missing = next(p for p in err.validator_value if p not in inst)
        return f"missing required field '{missing}'{where}", ptr + (missing,), False, f"add '{missing}:' to this mapping"
    if kind == "enum":
        allowed = [str(a) for a in err.validator_value]
        close = _suggest(inst, allowed, cutoff=0.5)
        hint = (f"did you mean '{close}'? " if close else "") + f"allowed values: {', '.join(allowed)}"
        return f"'{inst}' is not an allowed value{where}", ptr, False, hint
    if kind == "pattern":
        in_requirement = len(ptr) >= 3 and ptr[0] == "requirements" and ptr[-1] == "id"
        field = next((p for p in reversed(ptr) if isinstance(p, str)), "")
        hint = _REQ_ID_HINT if in_requirement else _PATTERN_HINTS.get(field)
        return f"'{inst}' does not have the expected format{where}", ptr, False, hint
    if kind == "type":
        got = _JSON_TYPES.get(type(inst), "null" if inst is None else type(inst).__name__)
        want = {"object": "mapping", "array": "list"}.get(err.validator_value, err.validator_value)
        hint = None
        if want == "string" and got in ("number", "boolean", "null"):
            hint = "quote the value so YAML keeps it as text, e.g. version: \"1.0.0\""
        elif want == "list":
            hint = "write a YAML list, e.g. [all] or one '- item' per line"
        return f"expected a {want}, got a {got}{where}", ptr, False, hint
    if kind in ("minItems", "minLength"):
        return f"must not be empty{where}", ptr, False, None
    if kind == "uniqueItems":
        return f"a list item is repeated{where}", ptr, False, "remove the duplicate entry"
    return f"{err.message}{where}", ptr, False, None


def _validate(src: _Source) -> dict[str, Any]:
    if not isinstance(src.data, dict):
        got = "an empty file" if src.data is None else f"a {_JSON_TYPES.get(type(src.data), 'value')}"
        raise src.error(f"a profile must be a YAML mapping, got {got}",
                        hint="start with 'id: my-profile', 'version: \"1.0.0\"', 'title: ...' (see profiles/README.md)")
    errors = sorted(_validator().iter_errors(src.data),
                    key=lambda e: (src.line(tuple(e.absolute_path)), list(map(str, e.absolute_path))))
    if errors:
        message, ptr, key, hint = _explain(errors[0], src)
        if len(errors) > 1:
            more = len(errors) - 1
            message += f" (and {more} more problem{'s' if more > 1 else ''} in this file)"
        raise src.error(message, ptr, key=key, hint=hint)
    data: dict[str, Any] = src.data
    if data["id"] != src.path.stem:
        raise src.error(f"profile id '{data['id']}' does not match the file name '{src.path.name}'", ("id",),
                        hint=f"rename the file to {data['id']}.yaml or set id: {src.path.stem}")
    first_seen: dict[str, int] = {}
    for i, req in enumerate(data["requirements"]):
        line = src.line(("requirements", i, "id"))
        if req["id"] in first_seen:
            raise src.error(f"requirement id {req['id']} is declared twice in this file "
                            f"(lines {first_seen[req['id']]} and {line})", ("requirements", i, "id"),
                            hint="requirement ids must be unique: rename or remove one")
        first_seen[req["id"]] = line
    return data


# ---------------------------------------------------------------- discovery


def _scan(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        raise ProfileError(f"profile directory does not exist: {directory}", path=str(directory),
                           hint="pass an existing directory holding <id>.yaml files")
    return {p.stem: p for p in sorted(directory.iterdir()) if p.suffix in PROFILE_SUFFIXES and p.is_file()}


def _index_dirs(dirs: Sequence[Path]) -> dict[str, Path]:
    """id -> file over `dirs`; the same id in two places must be the same bytes."""
    found: dict[str, Path] = {}
    for directory in dirs:
        for pid, path in _scan(directory).items():
            prev = found.get(pid)
            if prev is None:
                found[pid] = path
            elif prev.resolve() != path.resolve() and prev.read_bytes() != path.read_bytes():
                raise ProfileError(f"profile id '{pid}' is defined in two places with different content: "
                                   f"{prev} and {path}", path=str(path), line=1, field="id",
                                   hint="profile ids are global: give your profile a new id (and file name)")
    return found


def _norm_dirs(search_dirs: Sequence[Path | str]) -> tuple[Path, ...]:
    return tuple(Path(d).resolve() for d in search_dirs)


def available_profiles(search_dirs: Sequence[Path | str] = ()) -> dict[str, Path]:
    """Profile id -> file, for the shipped profiles plus those in `search_dirs`."""
    return _index_dirs((profiles_dir(), *_norm_dirs(search_dirs)))


# ---------------------------------------------------------------- resolution


@dataclass(frozen=True)
class _Origin:
    profile: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"profile '{self.profile}' ({self.path}:{self.line})"


@dataclass(frozen=True)
class _Resolved:
    profile: Profile
    origins: dict[str, _Origin]  # requirement id -> where it is declared
    files: tuple[tuple[Path, str], ...]  # (path, sha256 of bytes): self, then ancestors depth-first
    stamps: tuple[tuple[Path, int, int], ...]  # (path, mtime_ns, size) to notice edits


_CACHE: dict[tuple[Path, tuple[Path, ...]], _Resolved] = {}


def clear_cache() -> None:
    """Forget loaded profiles (tests that rewrite files in place call this)."""
    _CACHE.clear()


def _stamp(path: Path) -> tuple[Path, int, int]:
    st = path.stat()
    return (path, st.st_mtime_ns, st.st_size)


def _fresh(resolved: _Resolved) -> bool:
    try:
        return all(_stamp(stamp[0]) == stamp for stamp in resolved.stamps)
    except OSError:
        return False


def _requirement(item: dict[str, Any], profile_id: str) -> Requirement:
    return Requirement(
        id=item["id"],
        title=item["title"].strip(),
        statement=" ".join(item["statement"].split()),
        level=Level(item["level"]),
        category=Category(item["category"]),
        applies_to=tuple(item["applies_to"]),
        references=tuple(Reference(source=r["source"], section=r["section"], url=r.get("url", ""))
                         for r in item["references"]),
        profile=profile_id,
        notes=" ".join(item.get("notes", "").split()),
    )


def _merge_packages(own: Sequence[str], parents: Sequence[_Resolved], src: _Source) -> tuple[str, ...]:
    out: dict[str, str] = {}
    for label, pins in [*((p.profile.id, p.profile.fhir_packages) for p in parents), (src.data["id"], own)]:
        for pin in pins:
            name, version = pin.split("#", 1)
            if name in out and out[name].split("#", 1)[1] != version:
                idx = list(own).index(pin) if pin in own else None
                ptr: Pointer = ("fhir_packages", idx) if idx is not None else ("extends",)
                raise src.error(f"package {name} is pinned to two versions: {out[name]} and {pin} (from '{label}')",
                                ptr, hint="pin one version of each package across the profile and its parents")
            out.setdefault(name, pin)
    return tuple(out.values())


def _merge_scope(own: dict[str, Any], parents: Sequence[_Resolved]) -> dict[str, Any]:
    """Parents' scope rules first, then this profile's; a rule id seen twice keeps the child's version."""
    merged: dict[str, dict[str, dict[str, Any]]] = {"mandatory": {}, "exclusions": {}}
    for source in [*(p.profile.scope for p in parents), own]:
        for kind in merged:
            for rule in source.get(kind, []) or []:
                merged[kind][rule["id"]] = dict(rule)
    return {kind: list(rules.values()) for kind, rules in merged.items()}


def _resolve(path: Path, search: tuple[Path, ...], stack: tuple[tuple[str, Path, int], ...]) -> _Resolved:
    path = path.resolve()
    key = (path, search)
    hit = _CACHE.get(key)
    if hit is not None and _fresh(hit):
        return hit
    src = _parse(path)
    data = _validate(src)
    pid: str = data["id"]

    parents: list[_Resolved] = []
    extends: list[str] = list(data.get("extends", []))
    if extends:
        index = _index_dirs((path.parent, *search, profiles_dir()))
        chain = (*stack, (pid, path, 0))
        for i, parent_id in enumerate(extends):
            line = src.line(("extends", i))
            ids_on_stack = [s[0] for s in chain]
            if parent_id in ids_on_stack:
                cycle = " -> ".join([*ids_on_stack[ids_on_stack.index(parent_id):], parent_id])
                raise src.error(f"extends cycle: {cycle}", ("extends", i),
                                hint="a profile cannot (directly or indirectly) extend itself: remove one link")
            if parent_id not in index:
                close = _suggest(parent_id, list(index))
                hint = (f"did you mean '{close}'? " if close else "") + \
                    f"available profiles: {', '.join(sorted(index)) or '(none)'}"
                raise src.error(f"extends unknown profile '{parent_id}'", ("extends", i), hint=hint)
            parents.append(_resolve(index[parent_id], search, ((*stack, (pid, path, line)))))

    for parent in parents:
        if parent.profile.fhir_version != data["fhir_version"]:
            raise src.error(f"fhir_version {data['fhir_version']} differs from '{parent.profile.id}' "
                            f"({parent.profile.fhir_version})", ("fhir_version",),
                            hint="a profile and its parents must target the same FHIR release")

    requirements: list[Requirement] = []
    origins: dict[str, _Origin] = {}
    for i, parent in enumerate(parents):
        for req in parent.profile.requirements:
            origin = parent.origins[req.id]
            prev = origins.get(req.id)
            if prev is None:
                origins[req.id] = origin
                requirements.append(req)
            elif (prev.profile, prev.path) != (origin.profile, origin.path):
                raise src.error(f"requirement id {req.id} is declared twice among the parents: in {prev} and in "
                                f"{origin}", ("extends", i),
                                hint="ids must be unique across a resolved profile: rename one of them")
            # else: the same requirement reached through a diamond; keep the first
    for i, item in enumerate(data["requirements"]):
        ptr = ("requirements", i, "id")
        prev = origins.get(item["id"])
        if prev is not None:
            raise src.error(f"requirement id {item['id']} is already declared in {prev}", ptr,
                            hint="a profile cannot redefine an inherited requirement: choose a new id "
                                 "or drop the parent from extends")
        origins[item["id"]] = _Origin(pid, path, src.line(ptr))
        requirements.append(_requirement(item, pid))

    files: list[tuple[Path, str]] = [(path, hashlib.sha256(src.raw).hexdigest())]
    for parent in parents:
        for entry in parent.files:
            if entry[0] not in (f[0] for f in files):
                files.append(entry)
    manifest = "".join(f"{digest}  {p.name}\n" for p, digest in files)

    profile = Profile(
        id=pid,
        version=data["version"],
        title=" ".join(data["title"].split()),
        fhir_version=data["fhir_version"],
        extends=tuple(extends),
        requirements=tuple(requirements),
        description=" ".join(data["description"].split()),
        path=str(path),
        sha256=hashlib.sha256(manifest.encode("utf-8")).hexdigest(),
        fhir_packages=_merge_packages(data.get("fhir_packages", []), parents, src),
        scope=_merge_scope(data.get("scope") or {}, parents),
    )
    stamps = {_stamp(path)} | {s for parent in parents for s in parent.stamps}
    resolved = _Resolved(profile=profile, origins=origins, files=tuple(files), stamps=tuple(sorted(stamps)))
    _CACHE[key] = resolved
    return resolved


def _looks_like_path(text: str) -> bool:
    return text.endswith(PROFILE_SUFFIXES) or os.sep in text or "/" in text


def load_profile(id_or_path: str | Path, search_dirs: Sequence[Path | str] = ()) -> Profile:
    """A resolved profile, by shipped/search-dir id or by file path. Cached per process."""
    search = _norm_dirs(search_dirs)
    text = str(id_or_path)
    if isinstance(id_or_path, Path) or _looks_like_path(text):
        path = Path(text)
        if not path.is_file():
            raise ProfileError("no such profile file", path=text,
                               hint="give a path to a .yaml profile or a profile id (see `conformance profiles`)")
        return _resolve(path, search, ()).profile
    index = available_profiles(search)
    if text not in index:
        close = _suggest(text, list(index))
        hint = (f"did you mean '{close}'? " if close else "") + f"available profiles: {', '.join(sorted(index))}"
        raise ProfileError(f"unknown profile '{text}'", hint=hint)
    return _resolve(index[text], search, ()).profile


def all_requirements(search_dirs: Sequence[Path | str] = ()) -> dict[str, Requirement]:
    """Every requirement declared by any available profile, by id (the universe of known marker ids)."""
    out: dict[str, Requirement] = {}
    for pid in sorted(available_profiles(search_dirs)):
        profile = load_profile(pid, search_dirs)
        for req in profile.requirements:
            prev = out.get(req.id)
            if prev is None:
                out[req.id] = req
            elif prev.profile != req.profile:
                raise ProfileError(f"requirement id {req.id} is declared by two unrelated profiles: "
                                   f"'{prev.profile}' and '{req.profile}'", path=profile.path, field=req.id,
                                   hint="requirement ids are global across installed profiles: rename one of them")
    return out
