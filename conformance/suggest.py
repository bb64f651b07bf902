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


def did_you_mean(value: str, choices: Iterable[str]) -> str | None:
    """The closest choice when it is plausibly a typo (within a third of the length), else None."""
    best: tuple[int, str] | None = None
    for choice in choices:
        d = edit_distance(value.upper(), choice.upper())
        if best is None or d < best[0]:
            best = (d, choice)
    if best is None or best[0] > max(2, len(value) // 3):
        return None
    return best[1]
