"""Corrections the reference validator makes to R4 core definitions as it loads them, made here too.

Its verdicts on R4 content rest on these, so a validator that agrees with it must read the definitions the same way:
- the vital signs profiles bind `Observation.component.value[x]` to ucum-vitals-common as *required* in R4 4.0.1,
  a known error (R4B and R5 bind it as extensible). The reference validator loads the binding of `vitalsigns` and
  of the core profiles derived from it (bp, bodyweight...) as extensible, so a component in a unit outside that
  list (an FiO2 flow in L/min) is a warning, not an error.
"""

from __future__ import annotations

import copy
from typing import Any

_VITALSIGNS = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
_CORE_SD = _VITALSIGNS.rpartition("/")[0] + "/"  # (context.CORE_SD: context imports this module)
_UCUM_VITALS = "http://hl7.org/fhir/ValueSet/ucum-vitals-common|4.0.1"


def corrected(sd: dict[str, Any]) -> dict[str, Any]:
    """`sd`, or a corrected copy of it when it is one of the core definitions above (the original is untouched:
    it is shared with the package cache)."""
    url = sd.get("url") or ""
    if not (url.startswith(_CORE_SD) and sd.get("type") == "Observation"
            and _VITALSIGNS in (url, sd.get("baseDefinition"))):
        return sd
    out = None
    for part in ("snapshot", "differential"):
        for i, el in enumerate((sd.get(part) or {}).get("element") or ()):
            b = el.get("binding")
            if el.get("path") == "Observation.component.value[x]" and isinstance(b, dict) \
                    and b.get("valueSet") == _UCUM_VITALS and b.get("strength") == "required":
                if out is None:
                    out = copy.deepcopy(sd)
                out[part]["element"][i]["binding"]["strength"] = "extensible"
    return out if out is not None else sd
