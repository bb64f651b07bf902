"""Build `ucum-units.json`: the UCUM prefixes and atoms a unit expression is parsed against (`conformance.fhir.ucum`).

Why: the reference validator checks every `http://unitsofmeasure.org` code offline with its own UCUM library
("Unknown code 'fmm[Hg]' in the CodeSystem 'http://unitsofmeasure.org'"), and laboratory results and vital signs --
EHDS priority categories -- carry UCUM units in every Quantity. A wrong unit ("mmHg" for "mm[Hg]") is the most
common coding error in them.

Source: npm `@lhncbc/ucum-lhc` (7.1.10), `data/ucumDefs.min.json`, the NLM's import of the UCUM essence
(ucum-essence.xml). Kept: the 24 prefixes (code -> factor) and the 311 atoms of UCUM itself (source 'UCUM'), each
with whether it is metric (takes a prefix: a base unit or `isMetric`), special (a non-ratio scale such as Cel)
and arbitrary. The LOINC unit strings the same file carries are left out: they are expressions, not atoms.

Usage: npm pack @lhncbc/ucum-lhc@7.1.10 && tar xzf lhncbc-ucum-lhc-7.1.10.tgz
       python profiles/packages/ucum/build.py package/   (the extracted npm package folder)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(lhc: Path) -> dict:
    defs = json.loads((lhc / "data" / "ucumDefs.min.json").read_text("utf-8"))
    config = [c if isinstance(c, str) else c[0] for c in defs["units"]["config"]]
    col = {name: i for i, name in enumerate(config)}
    atoms = {}
    for row in defs["units"]["data"]:
        if row[col["source_"]] != "UCUM":
            continue
        atoms[row[col["csCode_"]]] = {"metric": bool(row[col["isMetric_"]] or row[col["isBase_"]]),
                                      "special": bool(row[col["isSpecial_"]]),
                                      "arbitrary": bool(row[col["isArbitrary_"]])}
    pcol = {name: i for i, name in enumerate(defs["prefixes"]["config"])}
    prefixes = {p[pcol["code_"]]: p[pcol["value_"]] for p in defs["prefixes"]["data"]}
    version = json.loads((lhc / "package.json").read_text("utf-8"))["version"]
    return {"source": f"npm @lhncbc/ucum-lhc@{version} data/ucumDefs.min.json (from ucum-essence.xml)",
            "prefixes": dict(sorted(prefixes.items())), "atoms": dict(sorted(atoms.items()))}


def main(argv: list[str]) -> int:
    out = build(Path(argv[1]))
    (HERE / "ucum-units.json").write_text(json.dumps(out, indent=0, ensure_ascii=True) + "\n", "utf-8")
    print(f"{len(out['prefixes'])} prefixes, {len(out['atoms'])} atoms -> {HERE / 'ucum-units.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
