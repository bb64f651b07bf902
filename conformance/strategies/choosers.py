"""The hypothesis side of :class:`conformance.documents.Chooser`.

Why: the document builders are shared between seeded generation and hypothesis; under
hypothesis every choice becomes a ``draw`` so failing documents shrink (fewer entries,
first code of each table, earliest dates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")


class HypothesisChooser:
    """Chooser that draws every choice from hypothesis (options are listed simplest first)."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def boolean(self) -> bool:
        return self.draw(st.booleans())
