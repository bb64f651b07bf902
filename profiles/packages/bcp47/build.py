"""Build `bcp47-subtags.json` (beside this file) from the IANA Language Subtag Registry, as packaged on npm.

Why: FHIR codes human languages with BCP 47 tags (`urn:ietf:bcp:47`: `Resource.language`, `Attachment.language`,
`Patient.communication.language`), and the reference validator checks each subtag against this registry, so
`en_US`, `english` or `xx` are unknown codes. `conformance/fhir/bcp47.py` parses a tag (RFC 5646 §2.1) and looks
its language, extlang, script, region and variant subtags up here.

Kept: the subtags of each type, lower-cased (tags are case-insensitive), ranges (`qaa..qtz`, private use)
expanded; the grandfathered and redundant whole tags. Left out: descriptions, dates, prefixes, preferred values.

Usage: npm pack language-subtag-registry@0.4.2 && tar xzf language-subtag-registry-0.4.2.tgz
       python profiles/packages/bcp47/build.py package/data/json/registry.json
"""

from __future__ import annotations

import json
import string
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _expand(subtag: str) -> list[str]:
    """'qaa..qtz' -> qaa, qab, ... qtz (the registry's ranges step the last letters or digits)."""
    if ".." not in subtag:
        return [subtag.lower()]
    lo, hi = (s.lower() for s in subtag.split(".."))
    alphabet = string.digits if lo.isdigit() else string.ascii_lowercase
    out, cur = [], list(lo)
    while True:
        out.append("".join(cur))
        if "".join(cur) == hi:
            return out
        i = len(cur) - 1
        while cur[i] == alphabet[-1]:
            cur[i] = alphabet[0]
            i -= 1
        cur[i] = alphabet[alphabet.index(cur[i]) + 1]


def build(registry: list[dict], file_date: str) -> dict:
    out: dict[str, object] = {"file_date": file_date}
    for kind in ("language", "extlang", "script", "region", "variant"):
        out[kind] = sorted({s for r in registry if r["Type"] == kind for s in _expand(r["Subtag"])})
    for kind in ("grandfathered", "redundant"):
        out[kind] = sorted(r["Tag"].lower() for r in registry if r["Type"] == kind)
    return out


def main(argv: list[str]) -> int:
    registry_path = Path(argv[1])
    meta = json.loads((registry_path.parent / "meta.json").read_text("utf-8"))
    data = build(json.loads(registry_path.read_text("utf-8")), meta["File-Date"])
    (HERE / "bcp47-subtags.json").write_text(json.dumps(data, separators=(",", ":")) + "\n", "utf-8")
    print({k: len(v) for k, v in data.items() if isinstance(v, list)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
