"""'Did you mean ...?' for names a user typed (requirement ids, adapters, keys)."""

from __future__ import annotations

from typing import Iterable


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute each cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def did_you_mean(value: object, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The closest choice when it is plausibly a typo, else None. Case-insensitive ('shall' -> 'SHALL').

    The one "did you mean" of the project (profiles, adapters, categories, CDA catalogues, requirement
    ids): a choice is plausible when it is within an edit distance of a third of the length, or when
    difflib's similarity ratio reaches `cutoff` (catches transpositions and truncations)."""
    import difflib

    text = str(value)
    options = list(choices)
    best: tuple[int, str] | None = None
    for choice in options:
        d = edit_distance(text.upper(), choice.upper())
        if best is None or d < best[0]:
            best = (d, choice)
    if best is not None and best[0] <= max(2, len(text) // 3):
        return best[1]
    lowered = {c.lower(): c for c in options}
    hit = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[hit[0]] if hit else None
