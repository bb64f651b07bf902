"""Build the ISO 3166-1 CodeSystem `urn:iso:std:iso:3166` shipped in `package/` from two MIT-licensed sources.

Why: the reference validator checks the display of a country Coding (`Wrong Display Name 'Australia' for
urn:iso:std:iso:3166#BD`), and EU documents carry country codes (addresses, jurisdictions, nationality). Without
the code system we could not say anything about them.

- codes and the ISO English short names (the `display`): PyPI `iso3166` (3.0.0);
- other English names and the names in the EU and EEA official languages (`designation`s, with their
  language): npm `i18n-iso-countries` (7.14.0), so that "Deutschland" for DE is a valid display, as a
  designation of the code, in a cross-border document.

Every country is entered under its alpha-2, alpha-3 and numeric code, as FHIR's urn:iso:std:iso:3166 takes all
three. `content` is `fragment`: ISO 3166-1 leaves codes to user assignment (XK for Kosovo is in real use), so a
code missing here is not claimed unknown; only displays are checked.

Usage: pip install iso3166==3.0.0 && npm pack i18n-iso-countries@7.14.0 && tar xzf i18n-iso-countries-7.14.0.tgz
       python profiles/packages/iso3166/build.py package/   (the extracted npm package folder)
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import iso3166

HERE = Path(__file__).resolve().parent
#: the 24 official languages of the EU, and Icelandic and Norwegian (Bokmål, Nynorsk) for the EEA
LANGUAGES = ("bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv", "mt",
             "nl", "pl", "pt", "ro", "sk", "sl", "sv", "is", "nb", "nn")


def _names(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def build(i18n: Path) -> dict:
    names = {lang: json.loads((i18n / "langs" / f"{lang}.json").read_text("utf-8"))["countries"] for lang in LANGUAGES}
    concepts = []
    for c in sorted(iso3166.countries, key=lambda c: c.alpha2):
        designations: list[dict[str, str]] = []
        seen = {c.name.lower()}
        for lang in LANGUAGES:
            extra = [c.apolitical_name] if lang == "en" else []
            for n in extra + _names(names[lang].get(c.alpha2, [])):
                if n.lower() not in seen:
                    seen.add(n.lower())
                    designations.append({"language": lang, "value": n})
        for code in (c.alpha2, c.alpha3, c.numeric):
            concept: dict = {"code": code, "display": c.name}
            if designations:
                concept["designation"] = designations
            concepts.append(concept)
    return {
        "resourceType": "CodeSystem", "id": "iso3166", "url": "urn:iso:std:iso:3166", "version": "iso3166-3.0.0",
        "name": "ISO3166Part1", "title": "ISO 3166-1 country codes (alpha-2, alpha-3, numeric)", "status": "active",
        "experimental": False, "caseSensitive": True, "content": "fragment", "count": len(concepts),
        "description": "Built by ehds-conformance from PyPI iso3166 3.0.0 (names) and npm i18n-iso-countries "
                       "7.14.0 (designations in the EU and EEA languages), both MIT. See PROVENANCE.md.",
        "concept": concepts,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    cs = build(Path(argv[0]))
    raw = json.dumps(cs, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    (HERE / "package" / "CodeSystem-iso3166.json.gz").write_bytes(gzip.compress(raw, mtime=0))
    print(f"{cs['count']} concepts, {len(raw)} bytes before gzip")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
