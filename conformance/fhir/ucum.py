"""The few UCUM units a bounds check can compare offline: unit code -> (dimension, factor to the base unit).

Enough for the bounds profiles and questionnaires set on quantities in practice (lengths, masses, times,
volumes); a unit outside this table is "cannot be compared", never a guessed conversion.
"""

from __future__ import annotations

SYSTEM = "http://unitsofmeasure.org"

UNITS: dict[str, tuple[str, float]] = {
    "m": ("L", 1.0), "km": ("L", 1000.0), "cm": ("L", 0.01), "mm": ("L", 0.001), "um": ("L", 1e-6),
    "[mi_i]": ("L", 1609.344), "[in_i]": ("L", 0.0254), "[ft_i]": ("L", 0.3048),
    "g": ("M", 1.0), "kg": ("M", 1000.0), "mg": ("M", 0.001), "ug": ("M", 1e-6), "[lb_av]": ("M", 453.59237),
    "s": ("T", 1.0), "min": ("T", 60.0), "h": ("T", 3600.0), "d": ("T", 86400.0), "wk": ("T", 604800.0),
    "L": ("V", 1.0), "mL": ("V", 0.001), "dL": ("V", 0.1), "l": ("V", 1.0), "ml": ("V", 0.001),
}


def comparable(a_code: str, b_code: str) -> tuple[float, float] | None:
    """Factors that bring a value in `a_code` and one in `b_code` to the same base unit, or None."""
    if a_code == b_code:
        return 1.0, 1.0
    a, b = UNITS.get(a_code), UNITS.get(b_code)
    if a is None or b is None or a[0] != b[0]:
        return None
    return a[1], b[1]
