"""Which extension URLs the HL7 extensions pack defines, without shipping its definitions.

The reference validator loads `hl7.fhir.uv.extensions.r4` beside R4 core. So an extension under
`http://hl7.org/fhir/StructureDefinition/` that neither defines is unknown to it too, and an error there ("could
not be found so is not allowed here"); one that only the pack defines is real, and all we can say offline is that
it was not checked. The 680 URLs (45 kB) draw that line; the definitions (6.7 MB) would be needed to check them
and are left to `conformance packages add`. Provenance beside the list, in profiles/packages/.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import orjson

from conformance.resources import fhir_packages_dir

PACK = "hl7.fhir.uv.extensions.r4"


@cache
def _pack() -> tuple[str, frozenset[str]]:
    data = orjson.loads((fhir_packages_dir() / PACK / "extension-urls.json").read_bytes())
    return f"{data['package']}#{data['version']}", frozenset(data["urls"])


@cache
def _pack_folded() -> dict[str, str]:
    return {u.lower(): u for u in _pack()[1]}


def pack_version() -> str:
    """`package#version` of the list, for messages."""
    return _pack()[0]


def in_extension_pack(url: str) -> bool:
    """Does the HL7 extensions pack define an extension with this canonical URL (any `|version` ignored)?"""
    return url.partition("|")[0] in _pack()[1]


def spelled_like(url: str, known: Callable[[str], str | None]) -> str | None:
    """A known extension URL (the pack's, or the one `known` gives: a URL of the loaded definitions equal to its
    argument but for case) equal to `url` but for letter case, for the fix hint of an unknown extension: canonical
    URLs are case-sensitive, and `.../NarrativeLink` for `.../narrativeLink` is a mistake seen in real documents."""
    return _pack_folded().get(url.partition("|")[0].lower()) or known(url)
