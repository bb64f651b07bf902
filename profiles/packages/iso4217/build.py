"""Build the ISO 4217 CodeSystem `urn:iso:std:iso:4217` shipped in `package/` from the ISO 4217 list one
(current currencies and funds) as packaged on npm by `currency-codes` (MIT).

Why: FHIR binds `Money.currency` (every price, cost and amount) to the value set `currencies`, all of
urn:iso:std:iso:4217, with a required binding, and the reference validator checks the code through its
terminology server: `EURO` or `eur` is not a currency code. Without the code system we could only say "not
checked offline".

Every alphabetic code of list one is a concept (179, with the X codes for gold, testing and "no currency").
`content` is `complete`: the list is the standard. No `display`: the list's names ("UAE Dirham") are not the
displays a terminology server gives, and a display check against them would be ours, not the standard's.

Usage: npm pack currency-codes@2.2.0 && tar xzf currency-codes-2.2.0.tgz
       python profiles/packages/iso4217/build.py package/iso-4217-list-one.xml
"""

from __future__ import annotations

import gzip
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(list_one: Path) -> dict:
    root = ET.parse(list_one).getroot()
    codes = sorted({e.text.strip() for e in root.iter("Ccy") if e.text and e.text.strip()})
    return {
        "resourceType": "CodeSystem", "id": "iso4217", "url": "urn:iso:std:iso:4217",
        "version": root.get("Pblshd", "unknown"), "name": "ISO4217", "title": "ISO 4217 currency codes (list one)",
        "status": "active", "experimental": False, "caseSensitive": True, "content": "complete",
        "count": len(codes),
        "description": "Built by ehds-conformance from ISO 4217 list one as packaged in npm currency-codes 2.2.0 "
                       "(MIT). See PROVENANCE.md.",
        "concept": [{"code": c} for c in codes],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    cs = build(Path(argv[0]))
    raw = json.dumps(cs, separators=(",", ":")).encode("utf-8")
    (HERE / "package" / "CodeSystem-iso4217.json.gz").write_bytes(gzip.compress(raw, mtime=0))
    print(f"{cs['count']} concepts, list one published {cs['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
