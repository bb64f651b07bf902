"""Is a `urn:ietf:bcp:47` code a valid language tag? The RFC 5646 (BCP 47) grammar, with each subtag looked up in
the IANA Language Subtag Registry (`profiles/packages/bcp47/bcp47-subtags.json`, provenance beside it), as the
reference validator's terminology checks it:

    langtag = language ["-" script] ["-" region] *("-" variant) *("-" extension) ["-" privateuse]
    language = 2-3 letters ["-" extlang] (registered)      script = 4 letters (registered)
    region = 2 letters or 3 digits (registered)            variant = 5-8 alphanumerics or a digit and 3 (registered)
    extension = a singleton (not x) and 2-8 alphanumerics  privateuse = "x" and 1-8 alphanumerics, repeated

plus the registry's grandfathered and redundant whole tags and a tag that is only private use (`x-whatever`).
Tags are case-insensitive. `tag_problem` says what is wrong, naming the subtag: `en_US` (an underscore),
`english` (no such language), `en-UK` (no such region: the United Kingdom is GB).
"""

from __future__ import annotations

import re
from functools import cache

import orjson

from conformance.resources import fhir_packages_dir

SYSTEM = "urn:ietf:bcp:47"
_ALNUM = re.compile(r"[a-z0-9]+")


@cache
def _registry() -> dict[str, frozenset[str]]:
    data = orjson.loads((fhir_packages_dir() / "bcp47" / "bcp47-subtags.json").read_bytes())
    return {k: frozenset(v) for k, v in data.items() if isinstance(v, list)}


def tag_problem(code: str) -> str | None:
    """What makes `code` no valid BCP 47 language tag, or None."""
    if not code:
        return "a language tag cannot be empty"
    tag = code.lower()
    reg = _registry()
    if tag in reg["grandfathered"] or tag in reg["redundant"]:
        return None
    parts = tag.split("-")
    if not all(p and _ALNUM.fullmatch(p) and p.isascii() for p in parts):
        bad = next((c for c in code if not (c.isascii() and (c.isalnum() or c == "-"))), None)
        return f"a language tag is ASCII letters and digits in subtags joined by '-', and {bad!r} is not one" \
            if bad is not None else "a language tag has no empty subtag (two '-' in a row, or one at an end)"
    if parts[0] == "x":
        return _private_use(parts[1:])
    return _langtag(parts, reg)


def _langtag(parts: list[str], reg: dict[str, frozenset[str]]) -> str | None:
    language, i = parts[0], 1
    if not (language.isalpha() and 2 <= len(language) <= 3):
        return f"'{language}' is no language subtag (2 or 3 letters from ISO 639, such as en, fr, deu)"
    if language not in reg["language"]:
        return f"'{language}' is not a language in the IANA language subtag registry"
    if i < len(parts) and len(parts[i]) == 3 and parts[i].isalpha():
        if parts[i] not in reg["extlang"]:
            return f"'{parts[i]}' is not an extended language subtag in the IANA registry"
        i += 1
    if i < len(parts) and len(parts[i]) == 4 and parts[i].isalpha():
        if parts[i] not in reg["script"]:
            return f"'{parts[i]}' is not a script in the IANA registry (scripts are ISO 15924 codes such as Latn)"
        i += 1
    if i < len(parts) and ((len(parts[i]) == 2 and parts[i].isalpha()) or (len(parts[i]) == 3 and parts[i].isdigit())):
        if parts[i] not in reg["region"]:
            hint = " (the United Kingdom is GB)" if parts[i] == "uk" else ""
            return f"'{parts[i]}' is not a region in the IANA registry{hint}"
        i += 1
    seen: set[str] = set()
    while i < len(parts) and (5 <= len(parts[i]) <= 8 or (len(parts[i]) == 4 and parts[i][0].isdigit())):
        if parts[i] not in reg["variant"]:
            return f"'{parts[i]}' is not a variant in the IANA registry"
        if parts[i] in seen:
            return f"the variant '{parts[i]}' is repeated"
        seen.add(parts[i])
        i += 1
    singletons: set[str] = set()
    while i < len(parts) and len(parts[i]) == 1 and parts[i] != "x":
        if parts[i] in singletons:
            return f"the extension '{parts[i]}' is repeated"
        singletons.add(parts[i])
        j = i + 1
        while j < len(parts) and 2 <= len(parts[j]) <= 8:
            j += 1
        if j == i + 1:
            return f"the extension '{parts[i]}' has no subtag of 2 to 8 characters after it"
        i = j
    if i < len(parts) and parts[i] == "x":
        return _private_use(parts[i + 1:])
    if i < len(parts):
        return f"'{parts[i]}' is out of place: after the language come a script, a region, variants, extensions " \
            "and private use, in that order (en-Latn-GB)"
    return None


def _private_use(parts: list[str]) -> str | None:
    if not parts or any(len(p) > 8 for p in parts):
        return "private use ('x-') needs one or more subtags of 1 to 8 characters after it"
    return None
