"""The two honest endings of a check besides pass and fail (generic: no requirement knowledge).

A check *fails* by raising AssertionError / NonConformance. These helpers cover the
two other honest endings: the check could not decide (`inconclusive`, verdict
not-tested, e.g. there was no log entry to examine because another requirement
already failed), or it does not apply to this SUT (`not_applicable`).
"""

from __future__ import annotations

from typing import NoReturn

import pytest

NOT_APPLICABLE_PREFIX = "not-applicable: "
NOT_TESTED_PREFIX = "not-tested: "
#: The plugin ends a check this way when the profile's scope rules make it fail before it runs
#: (a mandatory capability left undeclared): a skip carrying a fail verdict, with the rule as reason.
SCOPE_FAIL_PREFIX = "scope-fail: "


def not_applicable(reason: str) -> NoReturn:
    pytest.skip(NOT_APPLICABLE_PREFIX + reason)


def inconclusive(reason: str) -> NoReturn:
    pytest.skip(NOT_TESTED_PREFIX + reason)
